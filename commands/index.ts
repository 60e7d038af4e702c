import type { Command } from '../src/discord/interactionKit.js';
import { imagine } from './imagine.js';

/** Every command the bot offers; each file holds one command's definition and handler. */
export const allCommands: Command[] = [imagine as Command];
