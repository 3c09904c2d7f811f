/**
 * Which IP addresses a media URL may be fetched from (docs/security.md, "Media URL destinations"). By default only
 * public unicast addresses: never loopback, private, link-local (169.254.169.254 cloud metadata), CGNAT, unique-local
 * IPv6, multicast, 0.0.0.0/:: or another special-purpose block of the IANA registries. IPv4 carried inside IPv6
 * (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged by its IPv4 address.
 * Pure: no I/O.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Decides whether a resolved/connected IP address may be used. */
export type AddressPolicy = (ip: string) => boolean;

/** IPv4 special-purpose blocks (IANA IPv4 Special-Purpose Address Registry, RFC 6890 and successors). */
const V4_REFUSED: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network", 0.0.0.0
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT shared address space
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, 255.255.255.255 broadcast
];

/**
 * IPv6: only global unicast 2000::/3 is allowed at all (so ::, ::1, fc00::/7, fe80::/10, fec0::/10, ff00::/8,
 * 100::/64, the IPv4-compatible ::/96 are refused), minus these blocks of it.
 */
const V6_REFUSED_IN_GLOBAL: readonly [string, number][] = [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID, …
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
];

function blockList(rules: readonly [string, number][], type: 'ipv4' | 'ipv6'): BlockList {
  const b = new BlockList();
  for (const [net, bits] of rules) b.addSubnet(net, bits, type);
  return b;
}

/** The 8 hextets of a valid IPv6 address (zone id dropped, a dotted IPv4 tail folded in). */
function hextets(ip: string): number[] {
  let s = ip.split('%')[0]!;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const part = (x: string) => (x === '' ? [] : x.split(':').map((h) => parseInt(h, 16)));
  const h = part(head);
  if (tail === undefined) return h;
  const t = part(tail);
  return [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}

const v4Of = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/** The IPv4 address an IPv6 address carries (IPv4-mapped, NAT64 well-known prefix, 6to4), or null. */
export function embeddedIPv4(ip: string): string | null {
  if (!isIPv6(ip.split('%')[0]!)) return null;
  const h = hextets(ip);
  const zero = (from: number, to: number) => h.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && h[5] === 0xffff) return v4Of(h[6]!, h[7]!); // ::ffff:0:0/96
  if (h[0] === 0x64 && h[1] === 0xff9b && zero(2, 6)) return v4Of(h[6]!, h[7]!); // 64:ff9b::/96
  if (h[0] === 0x2002) return v4Of(h[1]!, h[2]!); // 2002::/16
  return null;
}

/** The default policy: public unicast addresses only. Anything that is not an IP address is refused. */
export function makePublicAddressPolicy(): AddressPolicy {
  const v4 = blockList(V4_REFUSED, 'ipv4');
  const global = blockList([['2000::', 3]], 'ipv6');
  const v6 = blockList(V6_REFUSED_IN_GLOBAL, 'ipv6');
  const allowed = (ip: string): boolean => {
    if (isIPv4(ip)) return !v4.check(ip, 'ipv4');
    const bare = ip.split('%')[0]!;
    if (!isIPv6(bare)) return false;
    const inner = embeddedIPv4(bare);
    if (inner !== null) return allowed(inner);
    return global.check(bare, 'ipv6') && !v6.check(bare, 'ipv6');
  };
  return allowed;
}

/** Allows every address (the `allow_private_media_urls` opt-in). */
export const anyAddress: AddressPolicy = () => true;
