import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Express } from "express";
import { closeServerGracefully, type FastRoute } from "../../core/index.js";

export interface HttpServerHandle {
  server: Server;
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  /**
   * Stops taking connections, lets requests in flight finish for up to `graceMs`, then
   * cuts what is left (long-lived streams would otherwise hold the process open).
   */
  close(graceMs: number): Promise<void>;
  /** Adds a route tried before express on every request (see FastRoute). */
  addFastRoute(route: FastRoute): void;
}

export async function startHttpServer(
  app: Express,
  options: { host: string; port: number },
): Promise<HttpServerHandle> {
  const fastRoutes: FastRoute[] = [];
  const server = createServer((req, res) => {
    for (const route of fastRoutes) if (route(req, res)) return;
    app(req, res);
  });
  // Behind a load balancer keeping connections open longer than Node's 5 s default
  // would otherwise race on reuse.
  server.keepAliveTimeout = 65_000;
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: (graceMs) => closeServerGracefully(server, graceMs),
    addFastRoute: (route) => fastRoutes.push(route),
  };
}

/** What Node's parser refused, in words: it answers 431 and 400 with an empty body otherwise. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    "Request Header Fields Too Large",
    "The request's address and headers are larger than this server takes (16 KB); send less in the query and headers.",
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "The request took too long to arrive."],
};

/**
 * A request Node's HTTP parser could not read never reaches express: the answer is written on
 * the socket here, in the same JSON shape as every other error (as Node itself would, with
 * words added).
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] = CLIENT_ERRORS[error.code ?? ""] ?? [
    400,
    "Bad Request",
    "The request is not valid HTTP/1.1, so it could not be read.",
  ];
  const body = JSON.stringify({ error: { code: "bad_http_request", message } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
