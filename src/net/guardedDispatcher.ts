// The connector the bot's downloader uses: every connection (every redirect hop, every reconnect) is checked
// at connect time against the address it actually goes to, so a redirect to an internal service or a name
// that re-resolves to a private address (DNS rebinding) is refused before a byte is sent. The exact origins
// of the configured upstreams (scheme, host and port) are exempt: they may live on a private network.

import { isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { classifyAddress, type BlockedReason } from './addressPolicy.js';
import { systemResolver, type ResolvedAddress, type Resolver } from './resolver.js';

export const BLOCKED_ADDRESS_CODE = 'ERR_BLOCKED_ADDRESS';

/** A connection refused because of where it would go. Names the host and the address, never a path or query. */
export class BlockedAddressError extends Error {
  readonly code = BLOCKED_ADDRESS_CODE;
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: BlockedReason,
  ) {
    super(
      host === address ? `refused to connect to ${host}: a ${reason} address` : `refused to connect to ${host}: it resolves to ${address}, a ${reason} address`,
    );
    this.name = 'BlockedAddressError';
  }
}

export interface GuardOptions {
  /** origins (scheme://host:port) that may be reached whatever their address: the configured upstreams */
  allowedOrigins: readonly string[];
  /** default: the system resolver (dns.lookup) */
  resolve?: Resolver | undefined;
  /** connect timeout, name resolution included */
  connectTimeoutMs: number;
}

/** An undici `connect` function that refuses private, loopback, link-local, metadata, multicast and reserved addresses. */
export function guardedConnector(opts: GuardOptions): buildConnector.connector {
  const allowed = new Set(opts.allowedOrigins.map(originOfUrl).filter((o): o is string => o !== undefined));
  const direct = buildConnector({ timeout: opts.connectTimeoutMs });
  const checked = buildConnector({ timeout: opts.connectTimeoutMs, lookup: guardedLookup(opts.resolve ?? systemResolver) });
  return (o, callback) => {
    if (allowed.has(originKey(o.protocol, o.hostname, o.port))) return direct(o, callback);
    if (isIP(o.hostname)) {
      // a literal address is never looked up: judge it here
      const v = classifyAddress(o.hostname);
      if (!v.allowed) return callback(new BlockedAddressError(o.hostname, o.hostname, v.reason), null);
      return direct(o, callback);
    }
    return checked(o, callback);
  };
}

/** A `lookup` for net.connect that resolves every address of the name and refuses them all if any one is not public. */
export function guardedLookup(resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (found) => {
        const blocked = firstBlocked(hostname, found);
        if (blocked) return callback(blocked, '', 0);
        const usable = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
        if (usable.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all)
          return callback(
            null,
            usable.map((a) => ({ address: a.address, family: a.family })),
          );
        return callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}

function firstBlocked(hostname: string, found: readonly ResolvedAddress[]): BlockedAddressError | undefined {
  for (const a of found) {
    const v = classifyAddress(a.address);
    if (!v.allowed) return new BlockedAddressError(hostname, a.address, v.reason);
  }
  return undefined;
}

/** `scheme://host:port` with the default port spelled out and IPv6 brackets removed, or undefined for a non-URL. */
export function originOfUrl(url: string): string | undefined {
  try {
    const u = new URL(url);
    return originKey(u.protocol, u.hostname, u.port);
  } catch {
    return undefined;
  }
}

function originKey(protocol: string, hostname: string, port: string | number | undefined): string {
  const host = hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  const p = port === undefined || port === '' ? (protocol === 'https:' ? 443 : 80) : Number(port);
  return `${protocol}//${host}:${p}`;
}
