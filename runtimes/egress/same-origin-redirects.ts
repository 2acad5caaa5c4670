import { EgressRefusedError } from "./egress-refused.js";

/** More hops than this is a loop, not an agent moving house. */
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * A `fetch` that follows redirects only on the origin it was asked for. fetch's own
 * following drops `Authorization` on the way to another host but keeps every other header,
 * so an agent's `x-api-key` or A2A headers (its secrets) would go wherever its server, or
 * an open redirect on it, pointed. A redirect to another origin is refused instead, as an
 * egress refusal naming the host; one on the same origin is followed, each hop connecting
 * through the checked dialer like the first.
 */
export function sameOriginRedirects(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const first = input instanceof Request ? input : undefined;
    let url = new URL(first ? first.url : String(input));
    let method = (init?.method ?? first?.method ?? "GET").toUpperCase();
    let body = init?.body;
    let response = await base(input, { ...init, redirect: "manual" });
    for (let hop = 1; ; hop++) {
      const location = response.headers.get("location");
      if (!REDIRECT_STATUSES.has(response.status) || location === null) return response;
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        await response.body?.cancel();
        throw new EgressRefusedError(next.host, "redirect");
      }
      // A body that was a stream cannot be sent twice: the redirect is the answer then.
      const resend = response.status === 307 || response.status === 308;
      if (hop > MAX_REDIRECTS || (resend && body != null && typeof body !== "string")) {
        return response;
      }
      await response.body?.cancel();
      if (!resend && method !== "HEAD") {
        method = "GET";
        body = undefined;
      }
      url = next;
      const headers = new Headers(init?.headers ?? first?.headers);
      if (body === undefined) headers.delete("content-type");
      response = await base(url, { ...init, method, body, headers, redirect: "manual" });
    }
  };
}
