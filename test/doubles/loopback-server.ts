import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * The HTTP server under every local double of a vendor's wire API: node:http on 127.0.0.1,
 * on a port the OS picks unless one is named, so tests never collide.
 */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Drops open connections (streams a test left hanging included), then stops listening. */
  close(): Promise<void>;
}

export type LoopbackHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Starts listening on 127.0.0.1 (port 0 unless `port` is given) with `handler` for every request. */
export async function startLoopbackServer(
  handler: LoopbackHandler,
  port = 0,
  /** For doubles that take WebSocket upgrades. */
  upgrade?: (req: IncomingMessage, socket: Socket, head: Buffer) => void,
): Promise<LoopbackServer> {
  const server = createServer((req, res) => handler(req, res));
  if (upgrade) server.on("upgrade", (req, socket, head) => upgrade(req, socket as Socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The whole request body, as UTF-8 text ("" when there is none). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
