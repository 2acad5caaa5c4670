import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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
