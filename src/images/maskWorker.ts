import { parentPort, workerData } from 'node:worker_threads';
import { drawRectanglesMask, normalizeMask, type MaskResult } from './mask.js';
import type { MaskTask } from './maskWork.js';

/**
 * Entry of a decode worker (started by maskWork.ts, one per task): does the one task it was given, posts the
 * result, and ends. Nothing here touches Discord or the network.
 */
function run(task: MaskTask): MaskResult {
  if (task.op === 'normalize') return normalizeMask(task.bytes, task.width, task.height, task.budget);
  return drawRectanglesMask(task.rects, task.width, task.height, task.budget);
}

parentPort?.postMessage(run(workerData as MaskTask));
