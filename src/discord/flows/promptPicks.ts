import type { ButtonInteraction, ModalSubmitInteraction } from 'discord.js';
import type { Job } from '../../jobs/model.js';
import type { MappedButton } from '../../mj/buttons.js';
import { splitDescribePrompts, validatePrompt } from '../../mj/prompts.js';
import { refuseUnfitParams } from './versionCheck.js';
import { imagineAllUpstream } from '../../mj/resultButtons.js';
import { UserError, type Ctx } from '../interactions/interactionKit.js';
import { jobOwner, pickDelivery } from './jobOptions.js';
import { startMjJob } from './mjJobs.js';
import type { Pressed } from '../interactions/pressedButton.js';

/**
 * Describe and shorten buttons the bot handles itself: a pick (1–4 / 1–5) starts a fresh imagine with that
 * prompt, "Imagine all" starts four. Nothing depends on the upstream's PicReader/PromptAnalyzer customIds,
 * which newer proxies reject (TA v11) — except "Imagine all" on TA, which returns the four task ids itself.
 */

export type PickPress = Pressed<MappedButton>;

const PROMPT_MAX = 6000;
/** the tasks one "Imagine all" press starts on the proxy (TA) */
const UPSTREAM_IMAGINE_ALL = 4;

/** Start what a describe/shorten button stands for; undefined for every other button (it goes upstream). */
export async function startPromptPick(
  i: ButtonInteraction | ModalSubmitInteraction,
  ctx: Ctx,
  p: PickPress,
  input: { prompt?: string | undefined },
): Promise<Job | undefined> {
  switch (p.spec.kind) {
    case 'describe-pick':
    case 'shorten-pick': {
      const checked = validatePrompt(input.prompt ?? p.record.data?.prompt, { maxLength: PROMPT_MAX });
      if (!checked.ok) throw new UserError(checked.key, checked.params);
      refuseUnfitParams(checked.prompt, ctx, { botType: p.parent.botType });
      return imagineFrom(i, ctx, p.parent, checked.prompt);
    }
    case 'describe-all':
      return imagineAll(i, ctx, p);
    default:
      return undefined;
  }
}

async function draftFor(i: ButtonInteraction | ModalSubmitInteraction, ctx: Ctx, parent: Job, prompt: string) {
  const settings = await ctx.services.repos.users.settings(i.user.id);
  return {
    kind: 'imagine' as const,
    prompt,
    parentJobId: parent.id,
    delivery: i.user.id === parent.owner.userId ? parent.delivery : pickDelivery(null, settings, ctx.rules),
    mode: parent.mode,
    botType: parent.botType,
  };
}

/** A fresh imagine with the parent's bot and speed. */
async function imagineFrom(i: ButtonInteraction | ModalSubmitInteraction, ctx: Ctx, parent: Job, prompt: string): Promise<Job> {
  const draft = await draftFor(i, ctx, parent, prompt);
  return startMjJob(i, ctx, draft, (job) => ctx.services.mj.imagine({ prompt, botType: parent.botType, mode: parent.mode, state: job.id }));
}

/**
 * Four imagines, one per describe prompt: TA does it in one press (four task ids), elsewhere the bot starts them.
 * The four are admitted together before anything is sent (limits, quotas): once the upstream runs them, none may
 * be refused, or a paid task would never be delivered.
 */
async function imagineAll(i: ButtonInteraction | ModalSubmitInteraction, ctx: Ctx, p: PickPress): Promise<Job> {
  const { parent, record } = p;
  const prompts = splitDescribePrompts(parent.result?.text ?? '').slice(0, 4);
  if (prompts[0] === undefined) throw new UserError('describe.noPrompts');
  const { services } = ctx;
  const byUpstream = imagineAllUpstream(parent, services.config.mj.flavor) && services.mj.supportsCustomId(record.customId);
  const owner = jobOwner(i, ctx.locale, ctx.guildId);
  const refusal = await services.community.admitBatch(owner, byUpstream ? UPSTREAM_IMAGINE_ALL : prompts.length, ctx.t('buttons.imagineAll'));
  if (refusal) throw UserError.from(refusal);
  try {
    return await startAll(i, ctx, p, prompts, byUpstream);
  } finally {
    services.community.endBatch(owner);
  }
}

async function startAll(i: ButtonInteraction | ModalSubmitInteraction, ctx: Ctx, p: PickPress, prompts: string[], byUpstream: boolean): Promise<Job> {
  const { parent, record } = p;
  const [first, ...rest] = prompts as [string, ...string[]];
  const { services } = ctx;
  if (!byUpstream) {
    const jobs: Job[] = [];
    for (const prompt of prompts) jobs.push(await imagineFrom(i, ctx, parent, prompt));
    return jobs[0]!;
  }

  let extra: string[] = [];
  const head = await startMjJob(i, ctx, await draftFor(i, ctx, parent, first), async (job) => {
    const out = await services.mj.action({
      taskId: record.upstreamTaskId,
      customId: record.customId,
      botType: parent.botType,
      mode: parent.mode,
      state: job.id,
    });
    if (out.kind === 'accepted') extra = out.extraTaskIds ?? [];
    return out;
  });
  // the other three tasks already run upstream: track each as its own job
  for (const [n, upstreamId] of extra.entries()) {
    const draft = await draftFor(i, ctx, parent, rest[n] ?? first);
    await startMjJob(i, ctx, draft, async () => ({ kind: 'accepted', taskId: upstreamId }));
  }
  return head;
}
