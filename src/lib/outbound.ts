import { promises as dns } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Outbound webhooks (policy notifications, alerts) may only reach public addresses unless the
 * operator allows otherwise: the host is resolved once, every address it resolves to is checked,
 * and the caller connects to the checked address (so a second lookup cannot point it elsewhere).
 */

const PRIVATE_V4 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE_V4.addSubnet(net, prefix, 'ipv4');
}
const PRIVATE_V6 = new BlockList();
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE_V6.addSubnet(net, prefix, 'ipv6');
}

/** Loopback, private, link-local (cloud metadata), CGNAT, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE_V4.check(address, 'ipv4');
  if (family === 6) {
    const mapped = address.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
    if (mapped) return PRIVATE_V4.check(mapped[1]!, 'ipv4');
    return PRIVATE_V6.check(address, 'ipv6');
  }
  return true;
}

export interface PublicTarget {
  /** the checked address to connect to */
  address: string;
  family: number;
  /** the URL's host name without IPv6 brackets (for SNI and the Host header) */
  hostname: string;
}

/** Resolves a URL's host and refuses private addresses (unless allowed); `refuse` builds the caller's error. */
export async function resolveOutboundTarget(url: URL, allowPrivate: boolean, refuse: (message: string) => Error): Promise<PublicTarget> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(hostname) ? [{ address: hostname, family: isIP(hostname) }] : await dns.lookup(hostname, { all: true });
  if (addresses.length === 0) throw new Error(`${hostname} has no address`);
  if (!allowPrivate) {
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) throw refuse(`${url.host} resolves to ${blocked.address}, a private or loopback address`);
  }
  return { address: addresses[0]!.address, family: addresses[0]!.family, hostname };
}
