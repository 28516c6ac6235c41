import { BlockList, isIP } from 'node:net';

/**
 * Who is connecting, for per-address rate limits. The socket's peer address, unless that peer is
 * one of our own reverse proxies (TRUSTED_PROXIES): then the address its `X-Forwarded-For` names.
 * A header from anyone else is ignored, or a client could pick a fresh address per attempt.
 */
export class ClientAddressResolver {
  private readonly trusted = new BlockList();
  private readonly hasTrusted: boolean;

  /** `trustedProxies`: addresses or CIDRs, already validated by the config loader. */
  constructor(trustedProxies: readonly string[]) {
    for (const entry of trustedProxies) {
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.trusted.addAddress(address, type);
      else this.trusted.addSubnet(address, Number(prefix), type);
    }
    this.hasTrusted = trustedProxies.length > 0;
  }

  isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client address for a connection from `peer` carrying `forwardedFor` (the raw header, '' if
   * absent). Proxies append the address they saw, so the list is read from the right: skip our own
   * proxies, the first other address is the client. A malformed entry stops the walk there.
   */
  resolve(peer: string, forwardedFor: string): string {
    let client = normalizeAddress(peer);
    if (!this.hasTrusted || !forwardedFor || !this.isTrusted(client)) return client;
    const hops = forwardedFor.split(',').map((h) => normalizeAddress(h.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.isTrusted(hop)) break;
    }
    return client;
  }
}

/**
 * One spelling per address: IPv4-mapped IPv6 becomes IPv4, IPv6 is compressed and lower-cased
 * (uWS reports the full 8-group form). Anything else is returned unchanged.
 */
export function normalizeAddress(address: string): string {
  const mapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const compressed = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const v4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (v4) {
    const hi = parseInt(v4[1]!, 16);
    const lo = parseInt(v4[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return compressed;
}

/**
 * The rate-limit key of an address: IPv4 as is; IPv6 by its /64, since one subscriber usually
 * holds a whole /64 and could otherwise rotate through 2^64 keys.
 */
export function rateLimitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const full = expandIpv6(address);
  return `${full.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** uWS hands addresses over as text in an ArrayBuffer. */
export function addressText(buffer: ArrayBuffer): string {
  return Buffer.from(buffer).toString('latin1');
}
