// Name resolution as the bot's sockets see it (getaddrinfo: /etc/hosts, then DNS), injectable for tests.

import { lookup } from 'node:dns/promises';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name resolves to (both families). Rejects like dns.lookup (ENOTFOUND, EAI_AGAIN…). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });
