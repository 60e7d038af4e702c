import { isIP } from 'node:net';

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

export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return true;
  const kind = isIP(host);
  if (kind === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (kind === 6) {
    if (host === '::' || host === '::1') return true;
    // IPv4-mapped (URL writes them in hex, ::ffff:7f00:1) and unique-local / link-local ranges
    return host.startsWith('::ffff:') || /^(fc|fd|fe8|fe9|fea|feb)/.test(host);
  }
  return false;
}
