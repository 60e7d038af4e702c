// The bot's one way out to addresses it was handed (members' attachments and links, upstreams' result images):
// a download agent whose every connection is checked (guardedDispatcher.ts) and the /describe link check
// (linkCheck.ts). Rule: the configured upstreams' exact origins are allowed; everything private is refused.

import type { Agent } from 'undici';
import type { Config } from '../config.js';
import { createDownloadAgent, DEFAULT_TIMEOUTS, downloadBytes } from '../upstream/http.js';
import { guardedConnector } from './guardedDispatcher.js';
import { checkPublicLink, type LinkVerdict } from './linkCheck.js';
import { systemResolver, type Resolver } from './resolver.js';

export interface Outbound {
  /** GET a URL (redirects followed, each hop's address checked), size- and time-capped; rejects with UpstreamHttpError ('blocked-address' when refused) */
  download(url: string, opts: { maxBytes: number; timeoutMs: number }): Promise<Buffer>;
  /** may an upstream be told to fetch this link? (scheme, then every address its host resolves to) */
  checkLink(link: string): Promise<LinkVerdict>;
  close(): Promise<void>;
}

/** The origins the bot may reach whatever their address: Discord's API (the fake serves attachments there too), the proxy, Img Open, PicWish. */
export function upstreamOrigins(config: Pick<Config, 'discord' | 'mj' | 'imgOpen' | 'picwish'>): string[] {
  return [config.discord.apiUrl, config.mj.baseUrl, config.imgOpen?.baseUrl, config.picwish?.baseUrl].filter((u): u is string => Boolean(u));
}

export function createOutbound(allowedOrigins: readonly string[], opts: { resolve?: Resolver } = {}): Outbound {
  const resolve = opts.resolve ?? systemResolver;
  const agent: Agent = createDownloadAgent({ connect: guardedConnector({ allowedOrigins, resolve, connectTimeoutMs: DEFAULT_TIMEOUTS.connectMs }) });
  return {
    download: (url, o) => downloadBytes(url, { ...o, dispatcher: agent }),
    checkLink: (link) => checkPublicLink(link, { resolve }),
    close: () => agent.close(),
  };
}
