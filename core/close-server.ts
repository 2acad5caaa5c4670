import type { Server } from "node:http";

/**
 * Stops an HTTP server the way a deploy wants: no new connections, idle keep-alive
 * connections closed now, requests in flight given `graceMs` to finish, then whatever is
 * left (long-lived streams) cut so the process can exit.
 */
export function closeServerGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
