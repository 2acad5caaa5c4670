import { isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector, type Dispatcher } from "undici";
import type { EgressPolicy } from "./egress-policy.js";
import { EgressRefusedError } from "./egress-refused.js";
import { sameOriginRedirects } from "./same-origin-redirects.js";

/** How long connecting to an agent may take, as before the dialer was checked. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The one way runtime adapters open connections: an undici Agent whose connector asks the
 * policy about the very address it connects to. An IP literal is checked as it is; a host
 * name is resolved once, every address it resolves to is checked, and the socket connects
 * only to checked ones, so a name that resolves differently a moment later (DNS
 * rebinding) changes nothing. Every request on the Agent, each redirect hop of a fetch
 * included, opens its connections here.
 */
export function checkedAgent(policy: EgressPolicy): Agent {
  const connector = buildConnector({ timeout: CONNECT_TIMEOUT_MS, lookup: checkedLookup(policy) });
  return new Agent({
    connect(options, callback) {
      const host = options.hostname.replace(/^\[(.*)\]$/, "$1");
      if (isIP(host) !== 0 && !policy.permits(host)) {
        queueMicrotask(() => callback(new EgressRefusedError(host, "address"), null));
        return;
      }
      connector(options, callback);
    },
  });
}

/**
 * A `fetch` (for SDKs that take one) whose every request, redirects included, goes through
 * `dispatcher`, and whose redirects are followed only on the same origin (see
 * same-origin-redirects.ts). `base` is the global fetch unless a test wraps it.
 */
export function checkedFetch(
  dispatcher: Dispatcher,
  base: typeof fetch = (input, init) => fetch(input, init),
): typeof fetch {
  const via = dispatcher as unknown as RequestInit["dispatcher"];
  return sameOriginRedirects((input, init) => base(input, { ...init, dispatcher: via }));
}

/** `net.connect`'s lookup, answering only with addresses the policy permits. */
export function checkedLookup(policy: EgressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : undefined;
    policy.resolve(hostname).then(
      (found) => {
        const candidates = found.filter((entry) => !family || entry.family === family);
        const allowed = candidates.filter((entry) => policy.permits(entry.address, hostname));
        const [first] = allowed;
        if (!first) {
          const error =
            candidates.length > 0
              ? new EgressRefusedError(hostname, "name")
              : Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
                  code: "ENOTFOUND",
                });
          callback(error, "", 0);
        } else if (options.all) {
          callback(
            null,
            allowed.map(({ address, family }) => ({ address, family })),
          );
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}
