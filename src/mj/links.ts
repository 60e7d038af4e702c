import { isIP } from 'node:net';
import { classifyAddress, isLocalName } from '../net/addressPolicy.js';

/**
 * A user-supplied image link the proxy will fetch: http(s) only, ≤ 2000 chars, no credentials, and not
 * pointing at this machine or a private network (the proxy may sit next to services users must not reach). Pure.
 */
export type LinkCheck = { ok: true; url: string } | { ok: false; key: 'describe.badLink' | 'describe.privateLink' };

const MAX_LINK = 2000;

export function checkImageLink(text: string): LinkCheck {
  const raw = text.trim().replace(/^<(.*)>$/, '$1');
  if (!raw || raw.length > MAX_LINK) return { ok: false, key: 'describe.badLink' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, key: 'describe.badLink' };
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || !url.hostname) return { ok: false, key: 'describe.badLink' };
  if (isPrivateHost(url.hostname)) return { ok: false, key: 'describe.privateLink' };
  return { ok: true, url: url.toString() };
}

/** A host written as a non-public address or a local name; names that need DNS are judged later (src/net/linkCheck.ts). */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? !classifyAddress(host).allowed : isLocalName(host);
}
