import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { DISCORD_TOKEN: 'tok.en.value', MJ_BASE_URL: 'http://proxy:8080' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('config', () => {
  it('names both required variables when the environment is empty, in one message', () => {
    const p = problems({});
    expect(p).toHaveLength(2);
    expect(p[0]).toMatch(/^DISCORD_TOKEN is required/);
    expect(p[1]).toMatch(/^MJ_BASE_URL is required/);
  });

  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c.discord.apiUrl).toBe('https://discord.com/api');
    expect(c.discord.guildId).toBeUndefined();
    expect(c.mj).toMatchObject({ baseUrl: 'http://proxy:8080', authStyle: 'mj-api-secret', flavor: 'trueai', mode: undefined });
    expect(c.storeUrl).toBe('sqlite://./data/mj-relay.sqlite');
    expect(c.http).toEqual({ port: 8080, host: '127.0.0.1', publicUrl: undefined, maskEditor: false }); // the editor needs PUBLIC_URL
    expect(c.logLevel).toBe('info');
    expect(c.imgOpen).toBeUndefined();
    expect(c.picwish).toBeUndefined();
    expect(c.jobs.pollIntervalMs).toBe(3000);
    expect(c.jobs.timeoutMs).toBe(30 * 60_000);
  });

  it('lists every invalid value at once and says how to fix each', () => {
    const p = problems({
      ...base,
      MJ_BASE_URL: 'proxy:8080',
      MJ_FLAVOR: 'nope',
      MJ_AUTH_HEADER: 'basic',
      MJ_MODE: 'slow',
      HTTP_PORT: '70000',
      STORE_URL: 'mysql://x',
      DISCORD_GUILD_ID: '12',
      PICWISH_BASE_URL: 'http://pw',
    });
    expect(p.join('\n')).toContain('MJ_BASE_URL must be an http(s) URL');
    expect(p.join('\n')).toContain('MJ_FLAVOR must be one of: trueai, plus, novicezk, task-form');
    expect(p.join('\n')).toContain('MJ_AUTH_HEADER must be one of: mj-api-secret, authorization, bearer');
    expect(p.join('\n')).toContain('MJ_MODE must be one of: fast, relax, turbo');
    expect(p.join('\n')).toContain('HTTP_PORT must be a whole number from 0 to 65535');
    expect(p.join('\n')).toContain('STORE_URL must start with sqlite://');
    expect(p.join('\n')).toContain('DISCORD_GUILD_ID must be a Discord id');
    expect(p.join('\n')).toContain('PICWISH_API_KEY is required when PICWISH_BASE_URL is set');
    expect(p).toHaveLength(8);
  });

  it('never echoes a secret value in a problem', () => {
    const err = (() => {
      try {
        loadConfig({ ...base, MJ_API_SECRET: 'super-secret-value', IMGOPEN_ACCESS_KEY_ID: 'id-secret-123', MJ_FLAVOR: 'x' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.message).not.toContain('super-secret-value');
    expect(err.message).not.toContain('id-secret-123');
    expect(err.message).toContain('IMGOPEN_ACCESS_KEY_ID and IMGOPEN_ACCESS_KEY_SECRET must be set together');
  });

  it('enables the image providers only with their keys and collects every secret for scrubbing', () => {
    const c = loadConfig({ ...base, MJ_API_SECRET: 's3cret', IMGOPEN_ACCESS_KEY_ID: 'kid', IMGOPEN_ACCESS_KEY_SECRET: 'ksecret', PICWISH_API_KEY: 'pw-key' });
    expect(c.imgOpen).toEqual({ baseUrl: 'https://api.zhiqite.com', accessKeyId: 'kid', accessKeySecret: 'ksecret' });
    expect(c.picwish).toEqual({ baseUrl: 'https://techhk.aoscdn.com', apiKey: 'pw-key' });
    expect(c.secrets.sort()).toEqual(['kid', 'ksecret', 'pw-key', 's3cret', 'tok.en.value'].sort());
  });

  it('parses button access rules and disabled button patterns', () => {
    const c = loadConfig({
      ...base,
      BUTTON_ACCESS: 'roles',
      BUTTON_ROLES: '123456789012345678, 223456789012345678',
      MJ_DISABLED_BUTTONS: 'PromptAnalyzer,BOOKMARK',
    });
    expect(c.buttons).toEqual({ access: 'roles', roles: ['123456789012345678', '223456789012345678'] });
    expect(c.mj.disabledButtons.map((r) => r.source)).toEqual(['PromptAnalyzer', 'BOOKMARK']);
    expect(problems({ ...base, BUTTON_ACCESS: 'roles' })).toEqual(['BUTTON_ROLES must list at least one role id when BUTTON_ACCESS=roles']);
  });

  it('runs every shard in one process by default; one shard per process only on a Redis store', () => {
    expect(loadConfig(base).discord).toMatchObject({ shardIds: undefined, shardCount: 1 });
    expect(loadConfig(base).jobs.leaseTtlMs).toBe(30_000);
    const c = loadConfig({ ...base, STORE_URL: 'redis://redis:6379', SHARD_ID: '1', SHARD_COUNT: '2', LEASE_TTL_MS: '5000' });
    expect(c.discord).toMatchObject({ shardIds: [1], shardCount: 2 });
    expect(c.jobs.leaseTtlMs).toBe(5000);
    expect(loadConfig({ ...base, SHARD_COUNT: '4' }).discord).toMatchObject({ shardIds: undefined, shardCount: 4 }); // all four here: any store
    expect(problems({ ...base, STORE_URL: 'redis://redis:6379', SHARD_ID: '2', SHARD_COUNT: '2' })).toEqual([
      expect.stringMatching(/^SHARD_ID must be below SHARD_COUNT/),
    ]);
    expect(problems({ ...base, SHARD_ID: '0', SHARD_COUNT: '2' })).toEqual([expect.stringMatching(/^STORE_URL must be redis:\/\/… when SHARD_ID is set/)]);
    expect(problems({ ...base, LEASE_TTL_MS: '10' })).toEqual([expect.stringMatching(/^LEASE_TTL_MS must be a whole number from 1000/)]);
  });
});

describe('config: credentials in URLs and retention', () => {
  it('prints URLs in problems with their passwords redacted, never the password', () => {
    const p = problems({ ...base, STORE_URL: 'mysql://relay:hunter2-pw@db.internal:3306/relay', MJ_BASE_URL: 'ftp://admin:proxy-pw-77@proxy:8080' }).join('\n');
    expect(p).toContain('STORE_URL must start with sqlite://');
    expect(p).toContain('mysql://relay:***@db.internal:3306/relay');
    expect(p).toContain('ftp://admin:***@proxy:8080');
    expect(p).not.toContain('hunter2-pw');
    expect(p).not.toContain('proxy-pw-77');
  });

  it('redacts the password before shortening a long value, so no part of it shows', () => {
    const longUser = 'u'.repeat(45);
    const p = problems({ ...base, STORE_URL: `mysql://${longUser}:abcdefghijklmnop@db/x` }).join('\n');
    expect(p).not.toMatch(/abcdef/);
    expect(p).toContain(':***');
  });

  it('counts the store password (raw and decoded) among the secrets to scrub', () => {
    const c = loadConfig({ ...base, STORE_URL: 'redis://default:p%40ss-word-9@redis:6379' });
    expect(c.secrets).toContain('p@ss-word-9');
    expect(c.secrets).toContain('p%40ss-word-9');
    expect(loadConfig(base).secrets).toEqual(['tok.en.value']);
  });

  it('keeps finished jobs and buttons JOB_RETENTION_DAYS days (default 90)', () => {
    expect(loadConfig(base).jobs.retentionMs).toBe(90 * 24 * 3600_000);
    expect(loadConfig({ ...base, JOB_RETENTION_DAYS: '7' }).jobs.retentionMs).toBe(7 * 24 * 3600_000);
    expect(problems({ ...base, JOB_RETENTION_DAYS: '0' })).toEqual([expect.stringMatching(/^JOB_RETENTION_DAYS must be a whole number from 1 to 3650/)]);
  });
});
