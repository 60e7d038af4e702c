import type { Command } from '../src/discord/interactions/interactionKit.js';
import type { Services } from '../src/services.js';
import { admin } from './admin.js';
import { animate } from './animate.js';
import { deleteResult } from './deleteResult.js';
import { faceswap } from './faceswap.js';
import { help } from './help.js';
import { imagine } from './imagine.js';
import { mjCommands } from './mjCommands.js';
import { inpaint } from './inpaint.js';
import { tools } from './tools.js';
import { video } from './video.js';

/** Every command the bot offers; each file holds one command's definition and handler. */
export const allCommands: Command[] = [
  imagine as Command,
  video as Command,
  faceswap as Command,
  inpaint as Command,
  tools as Command,
  ...mjCommands,
  admin as Command,
  deleteResult as Command,
  animate as Command,
  help as Command,
];

/** The commands this deployment registers: those whose upstream is configured (`enabled`), plus any given. */
export function offeredCommands(services: Services, extra: readonly Command[] = []): Command[] {
  return [...allCommands, ...extra].filter((c) => c.enabled?.(services) ?? true);
}
