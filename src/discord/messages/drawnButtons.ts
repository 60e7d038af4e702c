import type { Job } from '../../jobs/model.js';
import { newId } from '../../jobs/model.js';
import type { MappedButton } from '../../mj/buttons.js';
import type { ButtonRecord, Repositories } from '../../store/repositories.js';
import { encode, routeOfPrefix } from '../interactions/customId.js';
import type { DrawnButton } from './renderer.js';

/** Turns a job's upstream buttons into what is drawn (mapping, filtering, layout). Provider-specific, injected. */
export type ButtonPlanner = (job: Job) => MappedButton[][];

/** The custom_id of a drawn button: an upstream button routes to mjButton, the bot's own name their route's prefix. */
export function buttonCustomId(button: Pick<MappedButton, 'route'>, key: string): string {
  return encode(button.route ? routeOfPrefix(button.route) : 'mjButton', key);
}

export interface ButtonDrawingDeps {
  planButtons: ButtonPlanner;
  repos: Repositories;
  now: () => number;
}

/**
 * The rows of a job's result buttons. Every button gets a key stored before Discord ever shows it (store first,
 * Discord second), so a press after a restart or a double click still finds its record; known keys are reused.
 */
export async function drawButtons(job: Job, d: ButtonDrawingDeps): Promise<DrawnButton[][]> {
  const planned = d.planButtons(job);
  const keys = (job.buttonKeys ??= {});
  const fresh: ButtonRecord[] = [];
  const used = new Set(job.usedButtons ?? []);
  const rows = planned.map((row) =>
    row.map((button) => {
      let key = keys[button.customId];
      if (!key) {
        key = newId(10);
        keys[button.customId] = key;
        fresh.push({
          key,
          jobId: job.id,
          upstreamTaskId: job.upstreamId ?? '',
          customId: button.customId,
          kind: button.kind,
          index: button.index,
          ownerId: job.owner.userId,
          guildId: job.owner.guildId,
          createdAt: d.now(),
          ...(button.data ? { data: button.data } : {}),
        });
      }
      return { button, customId: buttonCustomId(button, key), used: used.has(button.customId) };
    }),
  );
  if (fresh.length > 0) {
    await d.repos.buttons.putMany(fresh);
    await d.repos.jobs.save(job, d.now());
  }
  return rows;
}
