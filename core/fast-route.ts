import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * A request handler that runs ahead of express, for the few endpoints whose latency matters
 * more than express's conveniences. It answers the request and returns true, or returns
 * false having read nothing, and the request goes on to express.
 */
export type FastRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The request's path, without its query string. */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
