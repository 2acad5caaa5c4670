import { isIP } from "node:net";
import { checkedLookup, type EgressPolicy, EgressRefusedError } from "../egress/index.js";

/**
 * Holds the Daytona SDK's HTTP clients (axios, one per API client and per sandbox) to the
 * egress policy: host names are resolved by the checked lookup at connect time (only
 * permitted addresses are dialled), IP literals are checked before the request, and
 * redirects are not followed (the key stays on the API's host). `refusal` keeps the last
 * refusal: the SDK rewraps errors and drops their cause.
 */
/** The part of an axios instance the guard touches (the SDK bundles its own axios). */
interface AxiosLike {
  defaults: { lookup?: unknown; maxRedirects?: number };
  interceptors: {
    request: { use(onFulfilled: (config: { url?: string; baseURL?: string }) => unknown): number };
  };
}

export class EgressGuard {
  refusal: EgressRefusedError | undefined;
  private readonly guarded = new WeakSet<object>();

  constructor(private readonly policy: EgressPolicy) {}

  guard(instance: AxiosLike | undefined): void {
    if (!instance || this.guarded.has(instance)) return;
    this.guarded.add(instance);
    instance.defaults.lookup = checkedLookup(this.policy);
    instance.defaults.maxRedirects = 0;
    instance.interceptors.request.use((config) => {
      const url = new URL(config.url ?? "", config.baseURL ?? undefined);
      this.check(url.hostname);
      return config;
    });
  }

  /** Throws (and remembers) a refusal when `hostname` is an IP literal the policy refuses. */
  check(hostname: string): void {
    const host = hostname.replace(/^\[(.*)\]$/, "$1");
    if (isIP(host) !== 0 && !this.policy.permits(host)) {
      this.refusal = new EgressRefusedError(host, "address");
      throw this.refusal;
    }
  }

  /** For connections the SDK opens without axios (its WebSocket log stream): checks a name too. */
  async checkUrl(raw: string): Promise<void> {
    const { hostname } = new URL(raw);
    this.check(hostname);
    const host = hostname.replace(/^\[(.*)\]$/, "$1");
    if (isIP(host) !== 0 || this.policy.allowsHostName(host)) return;
    const addresses = await this.policy.resolve(host);
    if (addresses.some((entry) => !this.policy.permits(entry.address, host))) {
      this.refusal = new EgressRefusedError(host, "name");
      throw this.refusal;
    }
  }
}
