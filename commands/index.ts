import type { Command } from '../src/discord/interactions/interactionKit.js';
import { admin } from './admin.js';
import { deleteResult } from './deleteResult.js';
import { faceswap } from './faceswap.js';
import { imagine } from './imagine.js';
import { mjCommands } from './mjCommands.js';
import { inpaint } from './inpaint.js';
import { tools } from './tools.js';

/** Every command the bot offers; each file holds one command's definition and handler. */
export const allCommands: Command[] = [
  imagine as Command,
  faceswap as Command,
  inpaint as Command,
  tools as Command,
  ...mjCommands,
  admin as Command,
  deleteResult as Command,
];
