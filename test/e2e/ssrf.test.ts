import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeInteraction, FakeMessage } from '../fakes/discord/index.js';
import { makePng } from '../fakes/images.js';
import { botMessages, waitForResult } from '../support/discordHelpers.js';
import { World } from '../support/world.js';

/** A service on the bot's own network that members must never reach through the bot (it answers with an image). */
class InternalService {
  hits: string[] = [];
  private server: Server = createServer((req, res) => {
    this.hits.push(req.url ?? '');
    const png = makePng(64, 64, { seed: 4242 });
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
    res.end(png);
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Outbound fetches: the bot never connects to a private, loopback, link-local, metadata, multicast or reserved
 * address for a member or an upstream — not by a /describe link, not by a result image's redirect — while the
 * configured upstreams' exact origins stay reachable.
 */
describe('outbound fetches (SSRF)', () => {
  let world: World;
  const internal = new InternalService();
  let seq = 0;
  const newChannel = (): FakeChannel => world.discord.addChannel(world.discord.guild.id, { name: `ssrf-${++seq}` });
  const describeSubmits = () => world.proxy.requests.filter((r) => r.route.includes('/submit/describe'));

  beforeAll(async () => {
    await internal.start();
    world = await World.start({ proxy: { stepMs: 40 } });
  });
  afterAll(async () => {
    await world?.close();
    await internal.close();
  });

  async function ephemeralReply(ix: FakeInteraction): Promise<FakeMessage> {
    await ix.firstCallback(3000);
    const msg = await world.discord.waitFor(() => (ix.original()?.content ? ix.original() : undefined));
    expect(msg.ephemeral).toBe(true);
    return msg;
  }

  describe('/describe link', () => {
    const PRIVATE = "That link points to a private or local address, which I can't use. Please attach the image instead.";

    it('refuses links whose host is, or resolves to, a loopback, private or reserved address, sending nothing', async () => {
      const proxyPort = Number(new URL(world.proxy.url).port);
      const links = [
        `http://localhost:${internal.port}/x.png`, // a name that resolves to loopback
        'http://[::7f00:1]/x.png', // IPv4-compatible IPv6 of 127.0.0.1
        'http://[::ffff:a00:1]/x.png', // IPv4-mapped 10.0.0.1
        'http://[64:ff9b::a9fe:a9fe]/latest/meta-data', // NAT64 of the metadata address 169.254.169.254
        'http://[fd00:ec2::254]/latest/meta-data', // AWS metadata over IPv6
        'http://redis:6379/x.png', // a single-label service name
        'http://vm:8080/x.png',
        `http://127.0.0.1:${proxyPort + 1}/x.png`, // another port on the proxy's host
        'http://198.18.0.1/x.png', // benchmarking
        'http://224.0.0.1/x.png', // multicast
        'http://100.64.0.1/x.png', // CGNAT
      ];
      const before = describeSubmits().length;
      for (const link of links) {
        const msg = await ephemeralReply(world.discord.slash({ name: 'describe', options: { link } }));
        expect(msg.content, link).toBe(PRIVATE);
      }
      expect(describeSubmits()).toHaveLength(before);
      expect(internal.hits).toEqual([]);
    });

    it('refuses other schemes and names that do not resolve, politely and in the member’s language', async () => {
      const before = describeSubmits().length;
      const ftp = await ephemeralReply(world.discord.slash({ name: 'describe', options: { link: 'ftp://example.com/x.png' } }));
      expect(ftp.content).toBe("That link isn't a valid http(s) link to an image.");
      const nowhere = await ephemeralReply(world.discord.slash({ name: 'describe', options: { link: 'https://images.nothing-here.invalid/x.png' } }));
      expect(nowhere.content).toBe(
        "I couldn't find the site in that link: its name doesn't resolve to any address. Please check the link, or attach the image instead.",
      );
      const zhNowhere = await ephemeralReply(
        world.discord.slash({ name: 'describe', options: { link: 'https://images.nothing-here.invalid/x.png' }, locale: 'zh-CN' }),
      );
      expect(zhNowhere.content).toBe('找不到该链接中的网站：它的域名无法解析到任何地址。请检查链接，或改为附加图片。');
      const zhPrivate = await ephemeralReply(world.discord.slash({ name: 'describe', options: { link: 'http://[::7f00:1]/x.png' }, locale: 'zh-CN' }));
      expect(zhPrivate.content).toBe('该链接指向私有或本地地址，无法使用。请直接附上图片。');
      expect(describeSubmits()).toHaveLength(before);
    });

    it('still accepts a link to a public address', async () => {
      world.proxy.stickNext(1); // the proxy never finishes it: nothing tries to reach the (unreachable) public address
      const before = describeSubmits().length;
      const msg = await ephemeralReply(world.discord.slash({ name: 'describe', options: { link: 'http://93.184.216.34/cat.png' } }));
      expect(msg.content).not.toContain('private');
      await world.discord.waitFor(() => (describeSubmits().length > before ? true : undefined));
      expect((describeSubmits().at(-1)!.body as { link?: string }).link).toBe('http://93.184.216.34/cat.png');
    });
  });

  describe('result images', () => {
    it('a result image that redirects to an internal service is not fetched and not posted; the member is told why', async () => {
      const ch = newChannel();
      world.proxy.redirectNext(1, `http://127.0.0.1:${internal.port}/secret.png`, '/images/');
      await ephemeralReply(world.discord.slash({ name: 'imagine', channelId: ch.id, options: { prompt: 'a lighthouse at night' } }));
      const result = await world.discord.waitFor(
        () =>
          botMessages(world.discord, ch.id).find(
            (m) => m.content.includes('a lighthouse at night') && (m.attachments.length > 0 || m.content.includes('network address')),
          ),
        { timeoutMs: 15_000 },
      );
      expect(world.proxy.requests.some((r) => r.fault === 'redirect')).toBe(true); // the redirect was served…
      expect(internal.hits).toEqual([]); // …and not followed
      expect(result.attachments).toEqual([]);
      expect(result.content).not.toContain(`:${internal.port}`); // the address is not shown (the bare port number can occur in a snowflake)
      expect(result.content).toContain(
        "The image service gave a result image on a private or local network address, which I don't fetch, so it isn't shown here. Please let the server's admins know.",
      );
      expect(world.logs.text()).toContain('private'); // the operator can see why in the log
    });

    it('a redirect to another configured origin (Discord’s CDN) is still followed', async () => {
      const ch = newChannel();
      const png = makePng(48, 32, { seed: 99 });
      const posted = world.discord.userSendsMessage({ channelId: ch.id, content: 'source', attachments: [{ name: 'moved.png', bytes: png }] });
      world.proxy.redirectNext(1, posted.attachments[0]!.url, '/images/');
      const started = Date.now();
      await ephemeralReply(world.discord.slash({ name: 'imagine', channelId: ch.id, options: { prompt: 'a moved picture' } }));
      const result = await waitForResult(world.discord, ch.id, { after: started, match: (m) => m.content.includes('a moved picture') });
      expect(world.proxy.requests.filter((r) => r.fault === 'redirect')).toHaveLength(2);
      expect(result.attachments).toHaveLength(1);
      expect(result.attachments[0]!.bytes.equals(png)).toBe(true);
    });
  });
});
