import { BlockList, isIPv4, isIPv6 } from "node:net";

/**
 * Which IP addresses count as internal: the ranges an agent's URL may not reach unless an
 * operator allows them. IPv4 by list (RFC 6890's special-purpose registry); IPv6 by the
 * opposite rule, since almost all of it is special: only global unicast (2000::/3) is
 * public, minus the parts of it that tunnel to IPv4 or are for documentation.
 */

const REFUSED_IPV4: readonly [string, number][] = [
  ["0.0.0.0", 8], // "this network", 0.0.0.0 itself reaches the local host
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local: cloud metadata at 169.254.169.254
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relays
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, 255.255.255.255 (broadcast) included
];

const REFUSED_IN_GLOBAL_IPV6: readonly [string, number][] = [
  ["2001::", 32], // Teredo: tunnels to an IPv4 address
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4: tunnels to an IPv4 address
];

const refused = new BlockList();
for (const [network, prefix] of REFUSED_IPV4) refused.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of REFUSED_IN_GLOBAL_IPV6) refused.addSubnet(network, prefix, "ipv6");

const globalUnicast = new BlockList();
globalUnicast.addSubnet("2000::", 3, "ipv6");

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/**
 * An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`) as the IPv4 address it
 * reaches; any other address as it is. WHATWG URL serialization gives the one hex form.
 */
export function unmapped(address: string): string {
  if (!isIPv6(address)) return address;
  // A zone (`fe80::1%eth0`) does not change which range the address is in.
  const withoutZone = address.replace(/%.*$/, "");
  const canonical = new URL(`http://[${withoutZone}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const high = Number.parseInt(mapped[1] as string, 16);
  const low = Number.parseInt(mapped[2] as string, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** The family BlockList wants, or undefined for something that is not an IP address. */
export function familyOf(address: string): "ipv4" | "ipv6" | undefined {
  if (isIPv4(address)) return "ipv4";
  if (isIPv6(address)) return "ipv6";
  return undefined;
}

/** True for loopback, private, link-local, shared, multicast and reserved addresses. */
export function isInternalAddress(address: string): boolean {
  const plain = unmapped(address);
  const family = familyOf(plain);
  if (!family) return true;
  if (family === "ipv6" && !globalUnicast.check(plain, "ipv6")) return true;
  return refused.check(plain, family);
}

/** True for 127.0.0.0/8 and ::1 (mapped forms included). */
export function isLoopbackAddress(address: string): boolean {
  const plain = unmapped(address);
  const family = familyOf(plain);
  return family !== undefined && loopback.check(plain, family);
}
