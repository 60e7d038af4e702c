// No Docker engine runs where the tests run: these check the files' syntax and the promises they make.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseMiniYaml } from '../support/miniYaml.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (name: string) => readFileSync(`${root}/${name}`, 'utf8');

type Obj = Record<string, any>;

/** PyYAML, when this machine has it, as an independent YAML parser. */
function pyYaml(file: string): unknown {
  try {
    const out = execFileSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file], {
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return JSON.parse(out.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

describe('docker-compose.yml', () => {
  const compose = parseMiniYaml(read('docker-compose.yml')) as Obj;

  it('parses as YAML (and PyYAML, where installed, reads the same document)', () => {
    const other = pyYaml(`${root}/docker-compose.yml`);
    if (other !== undefined) expect(other).toEqual(compose);
    expect(Object.keys(compose).sort()).toEqual(['services', 'volumes']);
  });

  it('runs the bot from the Dockerfile with .env, its data volume, and its HTTP port fixed inside', () => {
    const bot = compose.services.bot as Obj;
    expect(bot.build).toBe('.');
    expect(bot.env_file).toBe('.env');
    // fixed inside the container (over .env): the port mapping, the HEALTHCHECK and the listening address agree
    expect(bot.environment).toEqual({ HTTP_PORT: '8080', HTTP_HOST: '0.0.0.0' });
    expect(bot.volumes).toEqual(['data:/app/data']);
    expect(bot.profiles).toBeUndefined(); // always on
    // waits for Redis only when the redis profile runs it
    expect(bot.depends_on).toEqual({ redis: { condition: 'service_healthy', required: false } });
  });

  it("publishes the HTTP port on the host's loopback unless HTTP_PUBLISH says otherwise, and says so", () => {
    const bot = compose.services.bot as Obj;
    expect(bot.ports).toEqual(['${HTTP_PUBLISH:-127.0.0.1}:${HTTP_PORT:-8080}:8080']);
    const text = read('docker-compose.yml');
    expect(text).toMatch(/^# .*HTTP_PUBLISH=0\.0\.0\.0/m);
    expect(read('.env.example')).toMatch(/^# ?HTTP_PUBLISH=/m);
  });

  it('offers Redis behind the "redis" profile, with a health check and a volume', () => {
    const redis = compose.services.redis as Obj;
    expect(redis.profiles).toEqual(['redis']);
    expect(redis.image).toMatch(/^redis:\d/);
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(Object.keys(compose.volumes).sort()).toEqual(['data', 'redis-data']);
    // how to switch the store is documented in the file itself
    expect(read('docker-compose.yml')).toContain('STORE_URL=redis://redis:6379');
  });

  it('the mini parser refuses what it does not understand', () => {
    expect(() => parseMiniYaml('a:\n\tb: 1')).toThrow(/tab/);
    expect(() => parseMiniYaml('a: &x 1')).toThrow(/unsupported/);
    expect(() => parseMiniYaml('a: 1\na: 2')).toThrow(/duplicate/);
    expect(() => parseMiniYaml('a:\n  - b: 1')).toThrow(/nested/);
  });
});

describe('Dockerfile', () => {
  const file = read('Dockerfile');

  it('is multi-stage on Node 22, runs as a non-root user with a data volume, checks /healthz', () => {
    expect(file.match(/^FROM node:22\S* /gm)?.length ?? 0).toBeGreaterThanOrEqual(1);
    expect(file.match(/^FROM /gm)).toHaveLength(2);
    expect(file).toMatch(/^USER node$/m);
    expect(file).toMatch(/^VOLUME \["\/app\/data"\]$/m);
    expect(file).toMatch(/^HEALTHCHECK [^\n]*\\\n[^\n]*\/healthz/m);
    // the image runs exactly what `npm start` runs after its build step
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!;
    const run = start.split('&&').at(-1)!.trim().split(/\s+/);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(file)![1]!) as string[];
    expect(cmd).toEqual(run);
    expect(file).toMatch(/^RUN node scripts\/build\.mjs$/m);
  });

  it('listens on every interface of the container (HTTP_HOST=0.0.0.0): outside, only the published port reaches it', () => {
    const env = /^ENV ((?:[^\n]*\\\n)*[^\n]*)$/m.exec(file)![1]!;
    expect(env).toMatch(/\bHTTP_HOST=0\.0\.0\.0\b/);
  });

  it('ships what `npm run doctor` needs, and keeps .env and node_modules out of the build context', () => {
    expect(file.match(/^COPY scripts \.\/scripts$/gm)).toHaveLength(2);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.doctor).toBe('tsx scripts/doctor.ts');
    const ignore = read('.dockerignore').split('\n');
    for (const entry of ['.env', 'node_modules', 'data', '.git']) expect(ignore).toContain(entry);
  });
});
