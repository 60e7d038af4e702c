import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAddress, isLocalName } from '../../src/net/addressPolicy.js';
import { guardedLookup } from '../../src/net/guardedDispatcher.js';
import { checkPublicLink } from '../../src/net/linkCheck.js';
import { createOutbound, upstreamOrigins } from '../../src/net/outbound.js';
import type { ResolvedAddress, Resolver } from '../../src/net/resolver.js';
import { UpstreamHttpError } from '../../src/upstream/http.js';

/** A resolver answering from a table (no real DNS); unknown names fail as getaddrinfo does. */
function tableResolver(table: Record<string, string[]>, calls: string[] = []): Resolver {
  return async (hostname) => {
    calls.push(hostname);
    const found = table[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('classifyAddress', () => {
  const cases: [string, string][] = [
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.0', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.0.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['100.64.0.0', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['198.18.0.0', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['192.0.2.10', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['192.0.0.192', 'reserved'],
    ['192.88.99.1', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['fec0::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001:2::1', 'benchmarking'],
    ['100::1', 'reserved'],
    ['2001:10::1', 'reserved'],
    ['5f00::1', 'reserved'],
    ['4000::1', 'reserved'], // outside 2000::/3: nothing global there
    ['64:ff9b:1::a00:1', 'private'], // local-use NAT64, whatever it embeds
    ['64:ff9b:1::808:808', 'private'],
    // IPv4 hidden in IPv6
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a00:1', 'private'],
    ['::ffff:0:a9fe:a9fe', 'metadata'], // SIIT form
    ['::7f00:1', 'loopback'], // IPv4-compatible
    ['::127.0.0.1', 'loopback'],
    ['::8.8.8.8', 'reserved'], // deprecated form, even for a public address
    ['64:ff9b::127.0.0.1', 'loopback'], // NAT64
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::c612:1', 'benchmarking'],
    ['2002:7f00:1::', 'loopback'], // 6to4
    ['2002:c0a8:101::1', 'private'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'], // Teredo, client 127.0.0.1 (inverted)
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'], // Teredo, client 10.0.0.1
    // not an address at all
    ['example.com', 'not-an-address'],
    ['', 'not-an-address'],
  ];
  it.each(cases)('%s is refused (%s)', (address, reason) => {
    const v = classifyAddress(address);
    expect(v.allowed).toBe(false);
    expect(!v.allowed && v.reason).toBe(reason);
  });

  it('names the IPv6 form an IPv4 address hid in', () => {
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toEqual({ allowed: false, reason: 'metadata', embedded: { via: 'nat64', ipv4: '169.254.169.254' } });
    expect(classifyAddress('::ffff:10.1.2.3')).toEqual({ allowed: false, reason: 'private', embedded: { via: 'ipv4-mapped', ipv4: '10.1.2.3' } });
    expect(classifyAddress('2002:7f00:1::')).toMatchObject({ embedded: { via: '6to4', ipv4: '127.0.0.1' } });
  });

  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '9.255.255.255', // just below 10/8
    '11.0.0.0', // just above 10/8
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above
    '100.63.255.255', // just below CGNAT
    '100.128.0.0', // just above
    '169.253.255.255',
    '169.255.0.0',
    '198.17.255.255', // just below benchmarking
    '198.20.0.0', // just above
    '192.167.255.255',
    '192.169.0.0',
    '223.255.255.255', // just below multicast
    '126.255.255.255',
    '128.0.0.0',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8', // mapped public
    '64:ff9b::808:808', // NAT64 of a public address
    '2002:808:808::1', // 6to4 of a public address
    '2001:0:4136:e378:8000:63bf:f7f7:f7f7', // Teredo, client 8.8.8.8
    '2001:db7:ffff::1', // just below documentation
    '2001:db9::1', // just above
  ];
  it.each(allowed)('%s is allowed', (address) => {
    expect(classifyAddress(address)).toEqual({ allowed: true });
  });
});

describe('isLocalName', () => {
  it('knows names that only mean something on the local network', () => {
    for (const name of [
      'redis',
      'proxy',
      'vm',
      'localhost',
      'LOCALHOST.',
      'a.localhost',
      'printer.local',
      'metadata.google.internal',
      'nas.lan',
      'router.home.arpa',
      'db.localdomain',
    ]) {
      expect(isLocalName(name), name).toBe(true);
    }
    for (const name of ['example.com', 'cdn.discordapp.com', '127.0.0.1.nip.io', '127.0.0.1', '::1', 'internal.example.com']) {
      expect(isLocalName(name), name).toBe(false);
    }
  });
});

describe('checkPublicLink', () => {
  const resolve = tableResolver({
    'cdn.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    '127.0.0.1.nip.io': ['127.0.0.1'],
    'mixed.example.com': ['93.184.216.34', '10.0.0.7'], // one private address among public ones
    'v6only.example.com': ['::1'],
    'nat64.example.com': ['64:ff9b::a9fe:a9fe'],
    'bench.example.com': ['198.18.4.4'],
    'mcast.example.com': ['ff05::1'],
    'empty.example.com': [],
  });

  it('accepts a name whose every address is public, and a public literal', async () => {
    expect(await checkPublicLink('https://cdn.example.com/a.png', { resolve })).toEqual({ ok: true });
    expect(await checkPublicLink('http://93.184.216.34/a.png', { resolve })).toEqual({ ok: true });
    expect(await checkPublicLink('http://[2606:4700:4700::1111]/a.png', { resolve })).toEqual({ ok: true });
  });

  it('refuses a name when ANY of its addresses is not public', async () => {
    expect(await checkPublicLink('http://127.0.0.1.nip.io/a.png', { resolve })).toEqual({
      ok: false,
      why: 'private',
      reason: 'loopback',
      address: '127.0.0.1',
    });
    expect(await checkPublicLink('http://mixed.example.com/a.png', { resolve })).toEqual({ ok: false, why: 'private', reason: 'private', address: '10.0.0.7' });
    expect(await checkPublicLink('http://v6only.example.com/', { resolve })).toMatchObject({ ok: false, reason: 'loopback' });
    expect(await checkPublicLink('http://nat64.example.com/', { resolve })).toMatchObject({ ok: false, reason: 'metadata' });
    expect(await checkPublicLink('http://bench.example.com/', { resolve })).toMatchObject({ ok: false, reason: 'benchmarking' });
    expect(await checkPublicLink('http://mcast.example.com/', { resolve })).toMatchObject({ ok: false, reason: 'multicast' });
  });

  it('refuses literals and local names without asking DNS', async () => {
    const calls: string[] = [];
    const r = tableResolver({}, calls);
    expect(await checkPublicLink('http://[::7f00:1]/', { resolve: r })).toMatchObject({ ok: false, why: 'private', reason: 'loopback' });
    expect(await checkPublicLink('http://0x7f.1/', { resolve: r })).toMatchObject({ ok: false, why: 'private', reason: 'loopback' });
    expect(await checkPublicLink('http://redis:6379/', { resolve: r })).toEqual({ ok: false, why: 'private', reason: 'local-name' });
    expect(await checkPublicLink('http://vm:8080/x.png', { resolve: r })).toEqual({ ok: false, why: 'private', reason: 'local-name' });
    expect(calls).toEqual([]);
  });

  it('refuses other schemes, names that do not resolve, resolve to nothing, or take too long', async () => {
    expect(await checkPublicLink('ftp://cdn.example.com/a.png', { resolve })).toEqual({ ok: false, why: 'scheme' });
    expect(await checkPublicLink('file:///etc/passwd', { resolve })).toEqual({ ok: false, why: 'scheme' });
    expect(await checkPublicLink('gopher://cdn.example.com/', { resolve })).toEqual({ ok: false, why: 'scheme' });
    expect(await checkPublicLink('not a url', { resolve })).toEqual({ ok: false, why: 'scheme' });
    expect(await checkPublicLink('https://nowhere.example.com/a.png', { resolve })).toEqual({ ok: false, why: 'unresolvable' });
    expect(await checkPublicLink('https://empty.example.com/a.png', { resolve })).toEqual({ ok: false, why: 'unresolvable' });
    const hanging: Resolver = () => new Promise(() => undefined);
    expect(await checkPublicLink('https://slow.example.com/a.png', { resolve: hanging, timeoutMs: 50 })).toEqual({ ok: false, why: 'unresolvable' });
  });
});

describe('guardedLookup (what net.connect asks)', () => {
  const lookup = guardedLookup(
    tableResolver({ 'dual.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'], 'bad.example.com': ['2606:4700::1', 'fe80::1'] }),
  );
  const ask = (host: string, options: { family?: number; all?: boolean }) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number | undefined }>((resolve) =>
      lookup(host, options as never, (err, address, family) => resolve({ err, address, family })),
    );

  it('answers in the form asked for (all addresses for happy eyeballs, or one of a family)', async () => {
    expect(await ask('dual.example.com', { all: true })).toEqual({
      err: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
      ],
      family: undefined,
    });
    expect(await ask('dual.example.com', { family: 6 })).toEqual({ err: null, address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 });
    expect(await ask('dual.example.com', {})).toEqual({ err: null, address: '93.184.216.34', family: 4 });
  });

  it('refuses the name when any address is not public, even one of the family not asked for', async () => {
    const r = await ask('bad.example.com', { family: 6, all: true });
    expect(r.err?.code).toBe('ERR_BLOCKED_ADDRESS');
    expect(r.err?.message).toBe('refused to connect to bad.example.com: it resolves to fe80::1, a link-local address');
    expect((await ask('nowhere.example.com', {})).err?.code).toBe('ENOTFOUND');
  });
});

describe('the guarded downloader', () => {
  let internal: Server;
  let upstream: Server;
  let internalUrl = '';
  let upstreamUrl = '';
  let internalHits = 0;

  beforeAll(async () => {
    internal = createServer((_req, res) => {
      internalHits += 1;
      res.end('internal secret');
    });
    upstream = createServer((req, res) => {
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
      if (to) {
        res.writeHead(302, { location: to });
        res.end();
        return;
      }
      res.end('upstream image');
    });
    for (const s of [internal, upstream]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of [internal, upstream]) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  async function refusal(p: Promise<unknown>): Promise<UpstreamHttpError> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UpstreamHttpError);
    return e as UpstreamHttpError;
  }

  const opts = { maxBytes: 1000, timeoutMs: 2000 };

  it('reaches a configured upstream origin, and refuses another port on the same host', async () => {
    const out = createOutbound([upstreamUrl], { resolve: tableResolver({}) });
    try {
      expect((await out.download(`${upstreamUrl}/img.png`, opts)).toString()).toBe('upstream image');
      const e = await refusal(out.download(`${internalUrl}/x`, opts));
      expect(e.kind).toBe('blocked-address');
      expect(e.message).toContain('loopback');
      expect(internalHits).toBe(0);
    } finally {
      await out.close();
    }
  });

  it('checks every redirect hop: a redirect from an upstream to an internal service is refused before connecting', async () => {
    const out = createOutbound([upstreamUrl], { resolve: tableResolver({ localhost: ['127.0.0.1', '::1'] }) });
    try {
      const e = await refusal(out.download(`${upstreamUrl}/img.png?to=${encodeURIComponent(`${internalUrl}/secret`)}`, opts));
      expect(e.kind).toBe('blocked-address');
      const viaName = await refusal(out.download(`${upstreamUrl}/img.png?to=${encodeURIComponent(`http://localhost:${new URL(internalUrl).port}/`)}`, opts));
      expect(viaName.kind).toBe('blocked-address');
      // a redirect within the upstream's origin is followed
      expect((await out.download(`${upstreamUrl}/a?to=${encodeURIComponent(`${upstreamUrl}/b`)}`, opts)).toString()).toBe('upstream image');
      expect(internalHits).toBe(0);
    } finally {
      await out.close();
    }
  });

  it('judges the address a name resolves to at connect time (DNS rebinding), every address of it', async () => {
    const port = new URL(internalUrl).port;
    const calls: string[] = [];
    const out = createOutbound([], {
      resolve: tableResolver({ 'rebind.example.com': ['127.0.0.1'], 'mixed.example.com': ['93.184.216.34', '127.0.0.1'] }, calls),
    });
    try {
      expect((await refusal(out.download(`http://rebind.example.com:${port}/`, opts))).kind).toBe('blocked-address');
      expect((await refusal(out.download(`http://mixed.example.com:${port}/`, opts))).kind).toBe('blocked-address');
      expect((await refusal(out.download(`http://[::ffff:127.0.0.1]:${port}/`, opts))).kind).toBe('blocked-address');
      expect(calls).toEqual(['rebind.example.com', 'mixed.example.com']);
      expect(internalHits).toBe(0);
    } finally {
      await out.close();
    }
  });

  it('a name allowed by origin connects wherever it resolves (the operator configured it)', async () => {
    const port = new URL(upstreamUrl).port;
    // the system resolver: localhost comes from /etc/hosts, no DNS needed
    const out = createOutbound([`http://localhost:${port}`]);
    try {
      expect((await out.download(`http://localhost:${port}/img.png`, opts)).toString()).toBe('upstream image');
    } finally {
      await out.close();
    }
  });

  it('the bot allows exactly its configured upstreams', () => {
    const origins = upstreamOrigins({
      discord: { apiUrl: 'https://discord.com/api' } as never,
      mj: { baseUrl: 'http://proxy:8080' } as never,
      imgOpen: undefined,
      picwish: { baseUrl: 'https://techhk.aoscdn.com', apiKey: 'k' },
    });
    expect(origins).toEqual(['https://discord.com/api', 'http://proxy:8080', 'https://techhk.aoscdn.com']);
  });
});
