import type { IncomingMessage } from "node:http";

/** Why there is no body: larger than the limit, or the request broke off while sending it. */
export type BodyFailure = "too_large" | "cut_off";

/** Told once: the whole body, or why there is none. */
export interface BodyListener {
  bodyRead(body: Buffer): void;
  bodyFailed(reason: BodyFailure, cause?: unknown): void;
}

/**
 * The whole request body, buffered, up to `limit` bytes; over it, reading stops counting
 * and the listener hears "too_large" (at once when Content-Length already says so). For
 * the routes that answer ahead of express (the model proxy, Slack's events): a listener
 * rather than a promise, because the body usually arrives with the headers, and on the
 * proxy's hot path a promise would add an allocation and a microtask to every call.
 */
export function readBody(req: IncomingMessage, limit: number, listener: BodyListener): void {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) {
    listener.bodyFailed("too_large");
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  req.on("data", (chunk: Buffer) => {
    if (done) return;
    size += chunk.length;
    if (size > limit) {
      done = true;
      listener.bodyFailed("too_large");
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (done) return;
    done = true;
    listener.bodyRead(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
  });
  req.on("error", (error) => {
    if (done) return;
    done = true;
    listener.bodyFailed("cut_off", error);
  });
}
