import type { IncomingMessage } from "node:http";
import { ProxyError } from "../errors.js";

const tooLarge = (limit: number) =>
  new ProxyError(
    "body_too_large",
    `The request body is larger than this proxy accepts (${limit} bytes).`,
  );

/**
 * The whole request body, buffered: model calls are small, and a buffered body is sent
 * upstream in one write (faster than piping, measured). Over the limit it stops reading.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.off("end", onEnd);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", (error) =>
      reject(
        new ProxyError("invalid_request", "The request body could not be read.", { cause: error }),
      ),
    );
  });
}
