import { describe, expect, it } from 'vitest';
import { describeMjError, failReasonMessage, MjProvider, parseProgress } from '../../src/jobs/mjProvider.js';
import type { Job } from '../../src/jobs/model.js';
import { MjError, type MjTask } from '../../src/upstream/mjTypes.js';
import { silentLogger } from '../support/tmp.js';

const job = (over: Partial<Job> = {}): Job =>
  ({
    id: 'j1',
    provider: 'mj',
    kind: 'imagine',
    upstreamId: '1730000000000123',
    status: 'running',
    progress: 0,
    prompt: 'p',
    owner: { userId: 'u', channelId: 'c', locale: 'en-US' },
    delivery: 'channel',
    messages: { results: [] },
    attachmentLimit: 1,
    createdAt: 0,
    updatedAt: 0,
    deadlineAt: 1e13,
    upstream: {},
    ...over,
  }) as Job;

function source(tasks: MjTask[], single: Record<string, MjTask | null> = {}) {
  const calls = { batch: 0, single: 0 };
  return {
    calls,
    fetchTasks: async (ids: string[]) => {
      calls.batch++;
      return tasks.filter((t) => ids.includes(t.id));
    },
    fetchTask: async (id: string) => {
      calls.single++;
      return single[id] ?? null;
    },
  };
}

describe('MjProvider: task → job update', () => {
  const p = (flavor: 'trueai' | 'task-form' = 'trueai', tasks: MjTask[] = []) => new MjProvider(source(tasks), { flavor, logger: silentLogger });

  it('maps statuses, progress and previews', () => {
    const mp = p();
    expect(mp.toUpdate(job(), { id: '1', status: 'NOT_START' })).toEqual({ status: 'queued', progress: 0 });
    expect(mp.toUpdate(job(), { id: '1', status: 'IN_PROGRESS', progress: '46%', imageUrl: 'http://x/p.webp' })).toEqual({
      status: 'running',
      progress: 46,
      previewUrl: 'http://x/p.webp',
    });
    expect(mp.toUpdate(job(), { id: '1', status: 'CANCEL' })?.status).toBe('cancelled');
    expect(mp.toUpdate(job(), { id: '1', status: 'FAILURE', failReason: '取消任务' })?.status).toBe('cancelled');
  });

  it('treats MODAL on a polled job as still queued (the proxy keeps MODAL until a submitted modal starts)', () => {
    expect(p().toUpdate(job(), { id: '1', status: 'MODAL' })).toEqual({ status: 'queued', progress: 0 });
  });

  it('waits for SUCCESS to carry its result, and keeps the upstream buttons and mode', () => {
    const mp = p();
    expect(mp.toUpdate(job(), { id: '1', status: 'SUCCESS', imageUrl: '' })).toBeUndefined();
    const u = mp.toUpdate(job(), {
      id: '1',
      status: 'SUCCESS',
      imageUrl: 'http://x/i.png',
      mode: 'RELAX',
      buttons: [{ customId: 'MJ::JOB::upsample::1::h' }],
      properties: { finalPrompt: 'p --v 7' },
    });
    expect(u?.result).toMatchObject({ imageUrl: 'http://x/i.png', mode: 'relax', finalPrompt: 'p --v 7', buttons: [{ customId: 'MJ::JOB::upsample::1::h' }] });
    const d = mp.toUpdate(job({ kind: 'describe' }), { id: '1', status: 'SUCCESS', properties: { finalPrompt: '1️⃣ a\n\n2️⃣ b' } });
    expect(d?.result?.text).toBe('1️⃣ a\n\n2️⃣ b');
  });

  it('draws grid buttons from the message hash when a task-form task carries none', () => {
    const u = p('task-form').toUpdate(job(), {
      id: '1',
      action: 'IMAGINE',
      status: 'SUCCESS',
      imageUrl: 'http://x/i.png',
      properties: { messageHash: 'abc-123' },
    });
    expect(u?.result?.buttons.map((b) => b.customId)).toContain('MJ::JOB::upsample::2::abc-123');
    expect(u?.result?.buttons).toHaveLength(9);
  });

  it('fetches a task missing from the batch on its own, and gives up only after many misses', async () => {
    const src = source([], { '1730000000000123': { id: '1730000000000123', status: 'IN_PROGRESS', progress: '10%' } });
    const mp = new MjProvider(src, { flavor: 'trueai', logger: silentLogger });
    for (let i = 0; i < 2; i++) expect((await mp.poll([job()])).size).toBe(0);
    expect(src.calls.single).toBe(0);
    expect((await mp.poll([job()])).get('j1')?.progress).toBe(10);
    const lost = new MjProvider(source([]), { flavor: 'trueai', logger: silentLogger });
    let last = new Map();
    for (let i = 0; i < 20; i++) last = await lost.poll([job()]);
    expect(last.get('j1')).toEqual({ status: 'failed', error: { key: 'errors.taskNotFound' } });
  });

  it('maps fail reasons and submit errors to message keys', () => {
    expect(failReasonMessage('Banned prompt detected, …').key).toBe('errors.bannedPrompt');
    expect(failReasonMessage('可能包含敏感词').key).toBe('errors.bannedPrompt');
    expect(failReasonMessage('执行超时 5 分钟').key).toBe('errors.upstreamTimeout');
    expect(failReasonMessage('Subscription required').key).toBe('errors.upstreamAccount');
    expect(failReasonMessage('something odd https://x.y/z').params?.reason).toBe('something odd [link]');
    expect(describeMjError(new MjError('banned-prompt', 'x', { bannedWord: 'nope' }))).toEqual({ key: 'errors.bannedWord', params: { word: 'nope' } });
    expect(describeMjError(new MjError('unreachable', 'x')).key).toBe('errors.unreachable');
    expect(describeMjError(new Error('?')).key).toBe('errors.unknown');
    expect(parseProgress('78%')).toBe(78);
    expect(parseProgress('')).toBeUndefined();
  });
});

describe('buttons carried by callbacks', () => {
  const hash = '5f0e2a1c-8b1d-4c2e-9a7f-0123456789ab';
  const other = '0b7c6f4e-1111-4a2b-9c3d-123456789abc';
  const carried = [
    { customId: `MJ::JOB::upsample_v7_2x_subtle::1::${hash}::SOLO`, label: 'Upscale (Subtle)' },
    { customId: `MJ::Inpaint::1::${hash}::SOLO`, label: 'Vary (Region)' },
    { customId: `MJ::JOB::variation::1::${other}`, label: 'V1' },
  ];
  const upscaled: MjTask = {
    id: '1730000000000124',
    action: 'UPSCALE',
    status: 'SUCCESS',
    imageUrl: 'http://proxy/images/x.png',
    properties: { messageHash: hash },
  };

  it('are used when the fetched task names none, only those of this task', async () => {
    const { callbackButtonsOf } = await import('../../src/jobs/mjProvider.js');
    expect(callbackButtonsOf(job({ upstream: { callbackButtons: carried } }), upscaled).map((b) => b.label)).toEqual(['Upscale (Subtle)', 'Vary (Region)']);
    expect(callbackButtonsOf(job({ upstream: { callbackButtons: carried } }), { ...upscaled, properties: {}, imageUrl: 'http://proxy/x.png' })).toEqual([]); // no hash known: none trusted
    expect(callbackButtonsOf(job(), upscaled)).toEqual([]);
    const p = new MjProvider(source([]), { flavor: 'task-form', logger: silentLogger });
    expect(p.toUpdate(job({ kind: 'action', upstream: { callbackButtons: carried } }), upscaled)?.result?.buttons.map((b) => b.label)).toEqual([
      'Upscale (Subtle)',
      'Vary (Region)',
    ]);
    // the fetch's own buttons win
    const own = [{ customId: `MJ::JOB::upsample::1::${hash}`, label: 'U1' }];
    expect(p.toUpdate(job({ upstream: { callbackButtons: carried } }), { ...upscaled, action: 'IMAGINE', buttons: own })?.result?.buttons).toEqual(own);
  });

  it('are read from a callback body with bounds: Midjourney customIds only, at most 25', async () => {
    const { callbackButtons } = await import('../../src/http/callbackButtons.js');
    expect(callbackButtons({ id: '1', buttons: carried })?.map((b) => b.customId)).toEqual(carried.map((b) => b.customId));
    expect(
      callbackButtons({
        id: '1',
        buttons: [
          { customId: 'javascript:alert(1)' },
          { customId: `MJ::JOB::x::${'a'.repeat(120)}` },
          { label: 'no id' },
          7,
          { customId: 'MJ::Outpaint::50::1::h::SOLO', label: 42 },
        ],
      }),
    ).toEqual([{ customId: 'MJ::Outpaint::50::1::h::SOLO' }]);
    expect(callbackButtons({ id: '1', buttons: Array.from({ length: 26 }, () => carried[0]) })).toBeUndefined();
    expect(callbackButtons({ id: '1', buttons: [] })).toBeUndefined();
    expect(callbackButtons({ id: '1' })).toBeUndefined();
    expect(callbackButtons(null)).toBeUndefined();
  });
});
