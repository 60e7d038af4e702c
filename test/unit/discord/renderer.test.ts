import { describe, expect, it } from 'vitest';
import type { MessagePayload } from '../../../src/discord/messages/messenger.js';
import { Renderer } from '../../../src/discord/messages/renderer.js';
import { createI18n } from '../../../src/i18n/index.js';
import type { Job } from '../../../src/jobs/model.js';
import { makeJob } from '../../support/unitKit.js';

const i18n = await createI18n();
const labels = (p: MessagePayload) => (p.components ?? []).flatMap((r) => r.components.map((c) => ('label' in c ? c.label : undefined)));
const running = (over: Partial<Job> = {}) => makeJob({ provider: 'mj', status: 'running', progress: 40, upstreamId: '1712345678901234', ...over });

describe('Renderer: Cancel on a job the upstream accepted', () => {
  it('a running or upstream-queued job carries Cancel only where the upstream can stop it', () => {
    const plus = new Renderer(i18n, { canCancelRunning: () => true });
    const trueai = new Renderer(i18n, { canCancelRunning: () => false });
    expect(labels(plus.progress(running()))).toEqual(['Cancel']);
    expect(labels(plus.progress(running({ status: 'queued', queuePosition: 2 })))).toEqual(['Cancel']);
    expect(labels(trueai.progress(running()))).toEqual([]);
    expect(labels(new Renderer(i18n).progress(running()))).toEqual([]);
    // not accepted yet (no task to stop) or waiting for the member's modal: nothing to cancel upstream
    expect(labels(plus.progress(running({ status: 'submitting', upstreamId: undefined })))).toEqual([]);
    expect(labels(plus.progress(running({ status: 'modal' })))).toEqual([]);
    // a job waiting in the bot's own queue has Cancel whatever the upstream
    expect(labels(trueai.progress(running({ status: 'waiting', queuePosition: 1 })))).toEqual(['Cancel']);
  });

  it('a job ended at its member’s request does not ping them; one ended otherwise still does', () => {
    const r = new Renderer(i18n);
    const ended = (key: string) => r.failure(running({ status: 'cancelled', error: { key } }), { mention: true }).mentionUsers;
    expect(ended('errors.cancelled')).toEqual([]);
    expect(ended('queue.cancelled')).toEqual([]);
    const owner = running().owner.userId;
    expect(ended('queue.waitedTooLong')).toEqual([owner]);
    expect(r.failure(running({ status: 'failed', error: { key: 'errors.unknown' } }), { mention: true }).mentionUsers).toEqual([owner]);
  });
});
