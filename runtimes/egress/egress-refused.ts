import { isIPv6 } from "node:net";

/**
 * Thrown by the checked dialer in place of a connection to an internal address. It names
 * only the host the URL gave (a manifest's, or a redirect's), never what a name resolved
 * to: the agent's owner learns nothing about the internal network from it.
 */
export class EgressRefusedError extends Error {
  /** undici passes connect errors through by `code`; this one ends the request at once. */
  readonly code = "EGRESS_REFUSED";
  readonly host: string;

  constructor(host: string, how: "address" | "name") {
    const shown = isIPv6(host) ? `[${host}]` : host;
    super(
      how === "address"
        ? `${shown} is a private address this Switchboard's agents may not reach; an operator can allow it with RUNTIME_EGRESS_ALLOW`
        : `${shown} resolves to a private address this Switchboard's agents may not reach; an operator can allow it with RUNTIME_EGRESS_ALLOW`,
    );
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
