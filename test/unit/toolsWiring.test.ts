import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { UserError } from '../../src/discord/interactions/interactionKit.js';
import { isToolJob, parseFaceIndex, parseFidelity, planToolButtons } from '../../src/discord/flows/toolButtons.js';
import { IMGOPEN_LIMITS, limitsFor, PICWISH_LIMITS } from '../../src/discord/flows/toolInputs.js';
import { MediaStore } from '../../src/http/mediaStore.js';
import type { Job } from '../../src/jobs/model.js';

const base = { DISCORD_TOKEN: 'tok.en.value', MJ_BASE_URL: 'http://proxy:8080' };

function job(kind: Job['kind'], upstream: Record<string, unknown> = {}): Job {
  return {
    id: 'j1',
    provider: kind === 'faceswap' ? 'imgopen' : 'picwish',
    kind,
    owner: { userId: '1', channelId: '2', locale: 'en-US' },
    delivery: 'channel',
    status: 'succeeded',
    progress: 100,
    prompt: 'x',
    messages: { results: [] },
    attachmentLimit: 10 * 1024 * 1024,
    createdAt: 0,
    updatedAt: 0,
    deadlineAt: 1,
    upstream,
  };
}

const labels = (rows: ReturnType<typeof planToolButtons>) => rows.flat().map((b) => b.label);

describe('tool buttons', () => {
  const all = { engines: ['v2', 'v1', 'multi', 'proxy'] as const, picwish: true };

  it('offers Swap again on face swaps whose engine is still configured, and the PicWish tools not just run', () => {
    expect(labels(planToolButtons(job('faceswap', { engine: 'v2' }), { ...all, engines: [...all.engines] }))).toEqual([
      'Swap again',
      'Restore face',
      'Remove background',
      'Upscale',
    ]);
    expect(labels(planToolButtons(job('faceswap', { engine: 'proxy' }), { engines: ['v2'], picwish: false }))).toEqual([]);
    expect(labels(planToolButtons(job('inpaint', { tool: 'inpaint' }), { engines: [], picwish: true }))).toEqual([
      'Inpaint again',
      'Restore face',
      'Remove background',
      'Upscale',
    ]);
    expect(labels(planToolButtons(job('tool', { tool: 'upscale' }), { engines: [], picwish: true }))).toEqual(['Restore face', 'Remove background']);
    expect(labels(planToolButtons(job('tool', { tool: 'restore-face' }), { engines: [], picwish: false }))).toEqual([]);
  });

  it('routes them to the bot’s own route with relay: pseudo ids, never to the upstream-button route', () => {
    const rows = planToolButtons(job('tool', { tool: 'remove-background' }), { engines: [], picwish: true });
    for (const b of rows.flat()) {
      expect(b.route).toBe('t');
      expect(b.customId).toMatch(/^relay:(face|up)$/);
      expect(b.labelKey).toMatch(/^tools\.buttons\./);
    }
    expect(isToolJob(job('faceswap'))).toBe(true);
    expect(isToolJob({ kind: 'imagine' })).toBe(false);
  });

  it('parses the modal fidelity and face index, refusing anything else clearly', () => {
    expect(parseFidelity('')).toBeUndefined();
    expect(parseFidelity('0.25')).toBe(0.25);
    expect(parseFidelity('1')).toBe(1);
    expect(parseFidelity('0,5')).toBe(0.5);
    for (const bad of ['1.5', '-0.1', 'abc', '0.5.1']) expect(() => parseFidelity(bad)).toThrow(UserError);
    expect(parseFaceIndex('')).toBeUndefined();
    expect(parseFaceIndex('2')).toBe(2);
    for (const bad of ['0', 'x', '1.5', '-1']) expect(() => parseFaceIndex(bad)).toThrow(UserError);
  });
});

describe('input limits', () => {
  it('take the vendor limit, never above the interaction’s attachment limit', () => {
    expect(limitsFor(PICWISH_LIMITS, 25 * 1024 * 1024)).toEqual({ maxBytes: 15 * 1024 * 1024, maxSide: 4096 });
    expect(limitsFor(PICWISH_LIMITS, 8 * 1024 * 1024).maxBytes).toBe(8 * 1024 * 1024);
    expect(limitsFor(IMGOPEN_LIMITS, undefined).maxBytes).toBe(10 * 1024 * 1024);
  });
});

describe('MediaStore (IMAGE_INGRESS_MODE=rehost)', () => {
  it('serves bytes under an unguessable URL until they expire', () => {
    let now = 1000;
    const m = new MediaStore({ publicUrl: 'https://relay.example.com/', ttlMs: 60_000, now: () => now });
    const bytes = Buffer.from([1, 2, 3]);
    const url = m.put(bytes, 'image/png');
    expect(url).toMatch(/^https:\/\/relay\.example\.com\/media\/[A-Za-z0-9_-]{32}\.png$/);
    const name = url.split('/').pop()!;
    expect(m.get(name)?.bytes.equals(bytes)).toBe(true);
    expect(m.get(name.replace('.png', ''))?.contentType).toBe('image/png');
    expect(m.put(bytes, 'image/png')).not.toBe(url); // a fresh token every time
    expect(m.get('A'.repeat(32))).toBeUndefined();
    expect(m.get('../etc/passwd')).toBeUndefined();
    now += 60_000;
    expect(m.get(name)).toBeUndefined();
  });

  it('drops the oldest entries past its memory cap', () => {
    const m = new MediaStore({ publicUrl: 'http://x', maxBytes: 10 });
    const a = m.put(Buffer.alloc(6), 'image/png').split('/').pop()!;
    const b = m.put(Buffer.alloc(6), 'image/jpeg').split('/').pop()!;
    expect(b.endsWith('.jpg')).toBe(true);
    expect(m.get(a)).toBeUndefined();
    expect(m.get(b)).toBeDefined();
    expect(m.size).toBe(1);
  });
});

describe('config for the image tools', () => {
  it('defaults to discord-url ingress and the proxy engine on', () => {
    const c = loadConfig(base);
    expect(c.imageIngress).toBe('discord-url');
    expect(c.mj.faceSwap).toBe(true);
    expect(loadConfig({ ...base, MJ_FACE_SWAP: 'off' }).mj.faceSwap).toBe(false);
  });

  it('requires PUBLIC_URL for rehost, and names the allowed values', () => {
    expect(loadConfig({ ...base, IMAGE_INGRESS_MODE: 'rehost', PUBLIC_URL: 'https://relay.example.com' }).imageIngress).toBe('rehost');
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(problems({ ...base, IMAGE_INGRESS_MODE: 'rehost' })).toEqual([expect.stringMatching(/^PUBLIC_URL is required when IMAGE_INGRESS_MODE=rehost/)]);
    expect(problems({ ...base, IMAGE_INGRESS_MODE: 's3' })).toEqual([expect.stringMatching(/^IMAGE_INGRESS_MODE must be one of: discord-url, rehost/)]);
  });
});
