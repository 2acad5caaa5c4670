import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { familyOf, isInternalAddress, isLoopbackAddress, unmapped } from "./address-ranges.js";

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Looks a host name up: every address, as the system resolver would give them. */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface EgressPolicyOptions {
  /**
   * RUNTIME_EGRESS_ALLOW's entries: host names, IP addresses and CIDR ranges that agents may
   * reach although they are internal.
   */
  allow?: readonly string[];
  /** Loopback too: the embedded default on a loopback address, where a developer's agents run. */
  allowLoopback?: boolean;
  /** How host names are looked up; the system resolver (with /etc/hosts) unless a test names another. */
  resolve?: HostResolver;
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

type AllowEntry =
  | { kind: "name"; name: string }
  | { kind: "address"; address: string }
  | { kind: "range"; network: string; prefix: number };

/** A host name as URLs and resolvers compare it: lower case, without the root's dot. */
export function normalHostName(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, "");
}

function parseEntry(raw: string): AllowEntry | undefined {
  const entry = raw.trim().replace(/^\[(.*)\]$/, "$1");
  const slash = entry.indexOf("/");
  if (slash >= 0) {
    const network = entry.slice(0, slash).replace(/^\[(.*)\]$/, "$1");
    const prefixText = entry.slice(slash + 1);
    const bits = isIP(network) === 4 ? 32 : isIP(network) === 6 ? 128 : 0;
    const prefix = Number(prefixText);
    if (!bits || !/^\d{1,3}$/.test(prefixText) || prefix > bits) return undefined;
    return { kind: "range", network, prefix };
  }
  if (isIP(entry)) return { kind: "address", address: unmapped(entry) };
  const name = normalHostName(entry);
  return HOST_NAME.test(name) ? { kind: "name", name } : undefined;
}

/** What is wrong with one RUNTIME_EGRESS_ALLOW entry, in words; undefined when it is usable. */
export function egressAllowProblem(entry: string): string | undefined {
  return parseEntry(entry)
    ? undefined
    : `"${entry}" is not a host name, an IP address or a CIDR range such as 10.0.0.0/8`;
}

/**
 * Where agent runtimes may connect. Every public address is allowed; internal ones
 * (loopback, private, link-local, shared, reserved: see address-ranges.ts) are refused
 * unless an entry of the allow list names the host or covers the address. The checked
 * dialer asks it about each address at connect time, after DNS resolution.
 */
export class EgressPolicy {
  readonly resolve: HostResolver;
  private readonly allowLoopback: boolean;
  private readonly names = new Set<string>();
  private readonly addresses = new BlockList();

  constructor(options: EgressPolicyOptions = {}) {
    this.allowLoopback = options.allowLoopback ?? false;
    this.resolve = options.resolve ?? systemResolver;
    for (const raw of options.allow ?? []) {
      const entry = parseEntry(raw);
      if (!entry) throw new Error(`RUNTIME_EGRESS_ALLOW: ${egressAllowProblem(raw)}.`);
      if (entry.kind === "name") this.names.add(entry.name);
      else if (entry.kind === "address") {
        this.addresses.addAddress(entry.address, familyOf(entry.address));
      } else {
        this.addresses.addSubnet(entry.network, entry.prefix, familyOf(entry.network));
      }
    }
  }

  /** True when the allow list names this host, so whatever it resolves to may be reached. */
  allowsHostName(hostname: string): boolean {
    return this.names.has(normalHostName(hostname));
  }

  /** True when agents may connect to `address` (reached under `hostname`, when a name was used). */
  permits(address: string, hostname?: string): boolean {
    if (hostname !== undefined && this.allowsHostName(hostname)) return true;
    if (!isInternalAddress(address)) return true;
    const plain = unmapped(address);
    const family = familyOf(plain);
    if (!family) return false;
    if (this.allowLoopback && isLoopbackAddress(plain)) return true;
    return this.addresses.check(plain, family);
  }
}

const systemResolver: HostResolver = async (hostname) => {
  const found = await lookup(hostname, { all: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};
