import type { IncomingMessage } from "node:http";
import { ProxyError } from "../errors.js";

const tooLarge = (limit: number) =>
  new ProxyError(
    "body_too_large",
    `The request body is larger than this proxy accepts (${limit} bytes).`,
  );

/** Told once: the whole body, or why there is none. */
export interface BodyListener {
  bodyRead(body: Buffer): void;
  bodyFailed(error: ProxyError): void;
}

/**
 * The whole request body, buffered: model calls are small, and a buffered body is sent
 * upstream in one write (faster than piping, measured). Over the limit it stops reading.
 * A listener rather than a promise: the body usually arrives with the headers, and a
 * promise would add its own allocation and microtask to every call.
 */
export function readBody(req: IncomingMessage, limit: number, listener: BodyListener): void {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) {
    listener.bodyFailed(tooLarge(limit));
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
      listener.bodyFailed(tooLarge(limit));
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
    listener.bodyFailed(
      new ProxyError("invalid_request", "The request body could not be read.", { cause: error }),
    );
  });
}
