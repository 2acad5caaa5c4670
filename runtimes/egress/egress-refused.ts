import { isIPv6 } from "node:net";

const ALLOW_HINT = "an operator can allow it with RUNTIME_EGRESS_ALLOW";

const REFUSALS = {
  address: (host: string) =>
    `${host} is a private address this Switchboard's agents may not reach; ${ALLOW_HINT}`,
  name: (host: string) =>
    `${host} resolves to a private address this Switchboard's agents may not reach; ${ALLOW_HINT}`,
  redirect: (host: string) =>
    `the agent redirected to another host, ${host}; Switchboard follows an agent's redirects only on its own host, so the agent's credentials go nowhere else`,
};

/**
 * Thrown by the checked dialer in place of a connection to an internal address. It names
 * only the host the URL gave (a manifest's, or a redirect's), never what a name resolved
 * to: the agent's owner learns nothing about the internal network from it.
 */
export class EgressRefusedError extends Error {
  /** undici passes connect errors through by `code`; this one ends the request at once. */
  readonly code = "EGRESS_REFUSED";
  readonly host: string;

  constructor(host: string, how: "address" | "name" | "redirect") {
    const shown = isIPv6(host) ? `[${host}]` : host;
    super(REFUSALS[how](shown));
    this.name = "EgressRefusedError";
    this.host = host;
  }
}

/** The refusal behind an error (fetch and SDKs wrap it in a cause or two), if there is one. */
export function egressRefusalIn(error: unknown): EgressRefusedError | undefined {
  let current = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current instanceof EgressRefusedError) return current;
    current = current.cause;
  }
  return undefined;
}
