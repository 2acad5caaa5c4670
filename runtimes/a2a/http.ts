import { excerpt } from "../excerpt.js";
import { httpStatusError, unreachableError } from "../runtime-error.js";

/** How messages name the agent: by host, because the path means nothing to a reader. */
export function agentName(url: string | URL): string {
  try {
    return `The A2A agent at ${new URL(String(url)).host}`;
  } catch {
    return "The A2A agent";
  }
}

/**
 * The `fetch` handed to the A2A SDK. The SDK turns a failed HTTP call into a plain `Error`
 * whose only trace of the status is in its text, and lets network failures through as
 * `TypeError: fetch failed`; deciding retryability from that would mean parsing messages.
 * So the status is judged here, where it is still a number: refused connections and
 * 5xx/429 become retryable RuntimeErrors, other 4xx non-retryable ones, except A2A error
 * bodies (JSON-RPC or REST `google.rpc.Status`), which go back to the SDK so it can raise
 * the matching A2A error (TaskNotFound and the like).
 */
export function guardedFetch(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    let response: Response;
    try {
      response = await base(input, init);
    } catch (error) {
      const reason: unknown = init?.signal?.reason;
      const timedOut = reason instanceof DOMException && reason.name === "TimeoutError";
      if (init?.signal?.aborted && !timedOut) throw error;
      throw unreachableError(
        agentName(url),
        timedOut ? "it did not answer in time" : networkCause(error),
      );
    }
    if (response.ok) return response;
    const body = await response.text().catch(() => "");
    if (response.status === 429 || response.status >= 500 || !isA2aErrorBody(body)) {
      throw httpStatusError(agentName(url), response.status, statusDetail(response.status, body));
    }
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** undici hides the useful part ("connect ECONNREFUSED 127.0.0.1:1") in `cause`. */
export function networkCause(error: unknown): unknown {
  if (error instanceof Error && error.cause instanceof Error) return error.cause;
  return error;
}

function isA2aErrorBody(body: string): boolean {
  try {
    const parsed = JSON.parse(body);
    const error = parsed?.error;
    return typeof error === "object" && error !== null && typeof error.message === "string";
  } catch {
    return false;
  }
}

function statusDetail(status: number, body: string): string {
  if (status === 401 || status === 403) {
    return "it refused Switchboard's credentials; check the headers in the agent's runtime settings";
  }
  if (status === 404) return "nothing was found at that address; check the url setting";
  if (status === 429) return "too many requests for now";
  let text = body;
  try {
    const parsed = JSON.parse(body);
    if (typeof parsed?.error?.message === "string") text = parsed.error.message;
    else if (typeof parsed?.error === "string") text = parsed.error;
  } catch {
    // plain text body
  }
  return excerpt(text);
}
