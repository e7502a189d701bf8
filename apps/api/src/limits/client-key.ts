import ipaddr from 'ipaddr.js';

/** Bits of an IPv6 address that name one client: a /64 is what one household or host is handed. */
const IPV6_CLIENT_PREFIX = 64;

/**
 * The key every per-address limit counts under: an IPv4 address as it is, an IPv6 address by its
 * /64 (one subscriber gets a whole /64, so counting single IPv6 addresses would give an attacker
 * 2^64 fresh identities), and an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack
 * listener reports) as the IPv4 address it carries. Anything that is not an address (only a
 * client writing X-Forwarded-For past a hop-count proxy could send one) shares one key, so
 * inventing strings is not a way to new identities either.
 */
export const UNPARSABLE_CLIENT = 'unparsable';

export function clientKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return UNPARSABLE_CLIENT;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).toByteArray().slice(0, IPV6_CLIENT_PREFIX / 8);
  const prefix = ipaddr.fromByteArray([...parts, ...new Array<number>(16 - parts.length).fill(0)]);
  return `${prefix.toString()}/${IPV6_CLIENT_PREFIX}`;
}
