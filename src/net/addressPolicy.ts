// Which IP addresses the bot may connect to on a member's or an upstream's behalf. Pure: no DNS, no sockets.
// Only globally reachable unicast is allowed; everything a host's own network could answer on (loopback,
// private, link-local, cloud metadata, CGNAT, benchmarking, multicast, reserved, documentation) is refused,
// also when it hides inside an IPv6 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo).

import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';

export type BlockedReason =
  'unspecified' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'cgnat' | 'benchmarking' | 'multicast' | 'documentation' | 'reserved' | 'not-an-address';

/** How a blocked IPv4 address was carried inside an IPv6 one. */
export type Embedding = 'ipv4-mapped' | 'ipv4-compatible' | 'nat64' | '6to4' | 'teredo';

export type AddressVerdict = { allowed: true } | { allowed: false; reason: BlockedReason; embedded?: { via: Embedding; ipv4: string } };

type Range = readonly [network: string, prefix: number];

// First match wins: the more specific (metadata) before the range that contains it.
const IPV4_RANGES: readonly (readonly [BlockedReason, readonly Range[]])[] = [
  [
    'metadata',
    [
      ['169.254.169.254', 32],
      ['100.100.100.200', 32] /* Alibaba Cloud */,
    ],
  ],
  ['unspecified', [['0.0.0.0', 8]]],
  ['loopback', [['127.0.0.0', 8]]],
  [
    'private',
    [
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
    ],
  ],
  ['link-local', [['169.254.0.0', 16]]],
  ['cgnat', [['100.64.0.0', 10]]],
  ['benchmarking', [['198.18.0.0', 15]]],
  [
    'documentation',
    [
      ['192.0.2.0', 24],
      ['198.51.100.0', 24],
      ['203.0.113.0', 24],
    ],
  ],
  // IETF protocol assignments (192.0.0.192 is Oracle Cloud's metadata), the retired 6to4 relay anycast
  [
    'reserved',
    [
      ['192.0.0.0', 24],
      ['192.88.99.0', 24],
      ['240.0.0.0', 4] /* includes 255.255.255.255 */,
    ],
  ],
  ['multicast', [['224.0.0.0', 4]]],
];

const IPV6_RANGES: readonly (readonly [BlockedReason, readonly Range[]])[] = [
  ['metadata', [['fd00:ec2::254', 128] /* AWS IMDS over IPv6 */]],
  ['unspecified', [['::', 128]]],
  ['loopback', [['::1', 128]]],
  [
    'private',
    [
      ['fc00::', 7],
      ['fec0::', 10] /* deprecated site-local */,
      ['64:ff9b:1::', 48] /* local-use NAT64 (RFC 8215) */,
    ],
  ],
  ['link-local', [['fe80::', 10]]],
  ['multicast', [['ff00::', 8]]],
  ['benchmarking', [['2001:2::', 48]]],
  [
    'documentation',
    [
      ['2001:db8::', 32],
      ['3fff::', 20],
    ],
  ],
  [
    'reserved',
    [
      ['100::', 64] /* discard */,
      ['2001:10::', 28],
      ['2001:20::', 28] /* ORCHID */,
      ['5f00::', 16] /* SRv6 SIDs */,
    ],
  ],
];

function table(ranges: readonly (readonly [BlockedReason, readonly Range[]])[], family: 'ipv4' | 'ipv6'): [BlockedReason, BlockList][] {
  return ranges.map(([reason, list]) => {
    const bl = new BlockList();
    for (const [net, prefix] of list) bl.addSubnet(net, prefix, family);
    return [reason, bl];
  });
}

const V4 = table(IPV4_RANGES, 'ipv4');
const V6 = table(IPV6_RANGES, 'ipv6');
const GLOBAL_UNICAST_V6 = new BlockList();
GLOBAL_UNICAST_V6.addSubnet('2000::', 3, 'ipv6');

/** Is this address one the bot may connect to for someone else? Accepts IPv4 and IPv6 (brackets and zone ids tolerated). */
export function classifyAddress(address: string): AddressVerdict {
  const ip = bare(address);
  if (isIPv4(ip)) return classifyIPv4(ip);
  if (isIPv6(ip)) return classifyIPv6(ip);
  return { allowed: false, reason: 'not-an-address' };
}

function classifyIPv4(ip: string): AddressVerdict {
  for (const [reason, bl] of V4) if (bl.check(ip, 'ipv4')) return { allowed: false, reason };
  return { allowed: true };
}

function classifyIPv6(ip: string): AddressVerdict {
  const w = ipv6Words(ip);
  // IPv4 carried inside IPv6: judged by the IPv4 address it reaches
  const embedded = embeddedIPv4(w);
  if (embedded) {
    const inner = classifyIPv4(embedded.ipv4);
    if (!inner.allowed) return { ...inner, embedded };
    // a mapped, NAT64 or 6to4 public IPv4 address is as public as the address itself; the deprecated forms are not used
    return embedded.via === 'ipv4-compatible' ? { allowed: false, reason: 'reserved', embedded } : { allowed: true };
  }
  for (const [reason, bl] of V6) if (bl.check(ip, 'ipv6')) return { allowed: false, reason };
  // outside 2000::/3 nothing is assigned as global unicast (64:ff9b::/96 was handled above)
  if (!GLOBAL_UNICAST_V6.check(ip, 'ipv6')) return { allowed: false, reason: 'reserved' };
  return { allowed: true };
}

/** The IPv4 address an IPv6 address carries, for the forms that route to it. */
function embeddedIPv4(w: number[]): { via: Embedding; ipv4: string } | undefined {
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && w[5] === 0xffff) return { via: 'ipv4-mapped', ipv4: v4(w[6]!, w[7]!) };
  if (zeros(0, 4) && w[4] === 0xffff && w[5] === 0) return { via: 'ipv4-mapped', ipv4: v4(w[6]!, w[7]!) }; // SIIT ::ffff:0:a.b.c.d
  if (zeros(0, 6) && (w[6] !== 0 || w[7]! > 1)) return { via: 'ipv4-compatible', ipv4: v4(w[6]!, w[7]!) }; // not :: or ::1
  if (w[0] === 0x64 && w[1] === 0xff9b && zeros(2, 6)) return { via: 'nat64', ipv4: v4(w[6]!, w[7]!) };
  if (w[0] === 0x2002) return { via: '6to4', ipv4: v4(w[1]!, w[2]!) };
  if (w[0] === 0x2001 && w[1] === 0) {
    // Teredo: the server in words 2-3, the client obfuscated (inverted) in words 6-7; judge the client
    return { via: 'teredo', ipv4: v4(w[6]! ^ 0xffff, w[7]! ^ 0xffff) };
  }
  return undefined;
}

function v4(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** The eight 16-bit words of a valid IPv6 address (a dotted IPv4 tail included). */
function ipv6Words(ip: string): number[] {
  let s = ip.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return words.map((x) => parseInt(x, 16));
}

/** An address without URL brackets or an IPv6 zone id. */
function bare(address: string): string {
  const s = address.trim().replace(/^\[(.*)\]$/, '$1');
  const zone = s.indexOf('%');
  return zone >= 0 && isIP(s.slice(0, zone)) === 6 ? s.slice(0, zone) : s;
}

/** Host names that only mean something on the bot's own network: single labels (`redis`, `proxy`), .localhost, .local, .internal, .lan, .home.arpa. */
export function isLocalName(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (isIP(bare(host))) return false;
  if (!host.includes('.')) return true;
  return /(^|\.)(localhost|local|internal|lan|intranet|home\.arpa|localdomain)$/.test(host);
}
