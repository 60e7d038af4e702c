// How many fast GPU minutes a finished job is counted for: the task's own timing where it reports one, else the
// nominal grid minute weighted by the action; the speed it ran at (relax costs nothing, turbo twice).
import { describe, expect, it } from 'vitest';
import { ACTION_WEIGHTS, MAX_TASK_MINUTES, NOMINAL_MINUTES, fastMinutesOf, measuredMinutes, taskTimesOf } from '../../../src/community/fastBudgetEstimate.js';
import type { Job } from '../../../src/jobs/model.js';
import { makeJob } from '../../support/unitKit.js';

const done = (over: Partial<Job> = {}): Job => makeJob({ status: 'succeeded', result: { buttons: [], imageUrl: 'https://x/y.png' }, ...over });
const action = (kind: string): Job['action'] => ({ customId: `MJ::${kind}`, kind });

describe('the task times', () => {
  it('uses useTime when a proxy reports it, else finishTime − startTime, else nothing', () => {
    expect(measuredMinutes({ useTimeMs: 90_000, startTime: 0, finishTime: 600_000 })).toBe(1.5);
    expect(measuredMinutes({ startTime: 1_000, finishTime: 121_000 })).toBe(2);
    expect(measuredMinutes({ startTime: 5_000, finishTime: 5_000 })).toBeUndefined(); // no time passed: unknown, not free
    expect(measuredMinutes({ startTime: 5_000 })).toBeUndefined();
    expect(measuredMinutes(undefined)).toBeUndefined();
  });

  it('never believes a task worked longer than an hour (a broken clock must not spend the day)', () => {
    expect(measuredMinutes({ startTime: 0, finishTime: 86_400_000 })).toBe(MAX_TASK_MINUTES);
  });

  it('reads the timing fields of a task, ignoring what is not a number', () => {
    expect(taskTimesOf({ startTime: 10, finishTime: 20, useTime: '5' })).toEqual({ useTimeMs: undefined, startTime: 10, finishTime: 20 });
    expect(taskTimesOf({ startTime: null, finishTime: null, useTime: 7 })).toEqual({ useTimeMs: 7, startTime: undefined, finishTime: undefined });
  });
});

describe('fast minutes of a finished job', () => {
  const twoMinutes = { startTime: 0, finishTime: 120_000 };

  it('counts the measured time in fast mode, twice in turbo, nothing in relax', () => {
    expect(fastMinutesOf(done({ mode: 'fast' }), twoMinutes)).toBe(2);
    expect(fastMinutesOf(done({ mode: 'turbo' }), twoMinutes)).toBe(4);
    expect(fastMinutesOf(done({ mode: 'relax' }), twoMinutes)).toBe(0);
  });

  it('believes the mode the task reports over the one asked for, and takes FAST when neither says', () => {
    expect(fastMinutesOf(done({ mode: 'fast', result: { buttons: [], mode: 'relax' } }), twoMinutes)).toBe(0);
    expect(fastMinutesOf(done({ mode: 'relax', result: { buttons: [], mode: 'turbo' } }), twoMinutes)).toBe(4);
    expect(fastMinutesOf(done({ mode: undefined }), twoMinutes)).toBe(2);
  });

  it('without a measured time, weighs the nominal grid minute by the action (video and HD weigh more)', () => {
    expect(fastMinutesOf(done({ kind: 'imagine' }))).toBe(NOMINAL_MINUTES);
    expect(fastMinutesOf(done({ kind: 'action', action: action('variation') }))).toBe(NOMINAL_MINUTES);
    expect(fastMinutesOf(done({ kind: 'action', action: action('upscale') }))).toBe(ACTION_WEIGHTS.pick);
    expect(fastMinutesOf(done({ kind: 'action', action: action('upscale-creative') }))).toBe(2);
    expect(fastMinutesOf(done({ kind: 'imagine', prompt: 'a cat --v 8 --hd' }))).toBe(2);
    expect(fastMinutesOf(done({ kind: 'action', action: action('animate-high') }))).toBe(8);
    expect(fastMinutesOf(done({ kind: 'imagine', result: { buttons: [], video: { clips: [{ url: 'https://x/v.mp4' }] } } }))).toBe(8);
    expect(
      fastMinutesOf(done({ kind: 'imagine', prompt: 'a cat --video --hd', result: { buttons: [], video: { clips: [{ url: 'https://x/v.mp4' }] } } })),
    ).toBe(16);
    expect(fastMinutesOf(done({ kind: 'imagine', mode: 'turbo', prompt: 'a cat --hd' }))).toBe(4);
  });

  it('a measured time already says how heavy the action was: no weight on top', () => {
    expect(fastMinutesOf(done({ kind: 'action', action: action('animate-high') }), twoMinutes)).toBe(2);
  });

  it('counts nothing for failures, text results, the proxy face swap and other providers', () => {
    expect(fastMinutesOf(done({ status: 'failed' }), twoMinutes)).toBe(0);
    expect(fastMinutesOf(done({ kind: 'describe' }), twoMinutes)).toBe(0);
    expect(fastMinutesOf(done({ kind: 'shorten' }))).toBe(0);
    expect(fastMinutesOf(done({ kind: 'faceswap' }), twoMinutes)).toBe(0);
    expect(fastMinutesOf(done({ provider: 'picwish', kind: 'tool', upstream: {} }), twoMinutes)).toBe(0);
  });
});
