// Is a link safe to hand to an upstream that will fetch it (e.g. /describe link: the proxy downloads it)?
// The proxy sits on the bot's network, so a link must name a public host: the name is resolved and EVERY
// address it resolves to must be public. Syntax (scheme, credentials, length) is checked before this.

import { isIP } from 'node:net';
import { classifyAddress, isLocalName, type BlockedReason } from './addressPolicy.js';
import type { Resolver } from './resolver.js';

export type LinkVerdict =
  | { ok: true }
  | { ok: false; why: 'scheme' }
  | { ok: false; why: 'private'; reason: BlockedReason | 'local-name'; address?: string }
  | { ok: false; why: 'unresolvable' };

export interface LinkCheckOptions {
  resolve: Resolver;
  /** how long a name may take to resolve (default 5 s) */
  timeoutMs?: number;
}

export async function checkPublicLink(link: string, opts: LinkCheckOptions): Promise<LinkVerdict> {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return { ok: false, why: 'scheme' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, why: 'scheme' };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) return judge([host]);
  if (isLocalName(host)) return { ok: false, why: 'private', reason: 'local-name' };

  let addresses: string[];
  try {
    addresses = (await withTimeout(opts.resolve(host), opts.timeoutMs ?? 5_000)).map((a) => a.address);
  } catch {
    return { ok: false, why: 'unresolvable' };
  }
  if (addresses.length === 0) return { ok: false, why: 'unresolvable' };
  return judge(addresses);
}

function judge(addresses: string[]): LinkVerdict {
  for (const address of addresses) {
    const v = classifyAddress(address);
    if (!v.allowed) return { ok: false, why: 'private', reason: v.reason, address };
  }
  return { ok: true };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`name resolution took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
