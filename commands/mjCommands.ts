import type { Command } from '../src/discord/interactions/interactionKit.js';
import { blend } from './blend.js';
import { describe } from './describe.js';
import { describeImage } from './describeImage.js';
import { info } from './info.js';
import { job } from './job.js';
import { seed } from './seed.js';
import { settings } from './settings.js';
import { shorten } from './shorten.js';

/** The rest of Midjourney (issue 4): blend, describe (+ the "Describe image" menu), shorten, seed, job, settings, info. */
export const mjCommands: Command[] = [blend, describe, describeImage, shorten, seed, job, settings, info] as Command[];
