import { createServer, type Server } from "node:http";
import { type AddressInfo, isIPv6 } from "node:net";

/**
 * A service inside the network that an agent's URL must never reach (cloud metadata, an
 * admin port, a database's HTTP side), on a loopback address of the test's choosing
 * (127.0.0.2, ::1) so it stands apart from the agents on 127.0.0.1. It counts connections,
 * not only requests: a refused address must not even be connected to.
 */
export class InternalService {
  connections = 0;
  readonly requests: string[] = [];

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.2:<port>` or `http://[::1]:<port>`. */
    readonly url: string,
    readonly port: number,
  ) {}

  static async start(host: string, port = 0): Promise<InternalService> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const bound = (server.address() as AddressInfo).port;
    const service = new InternalService(
      server,
      `http://${isIPv6(host) ? `[${host}]` : host}:${bound}`,
      bound,
    );
    server.on("connection", () => service.connections++);
    server.on("request", (req, res) => {
      service.requests.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ AccessKeyId: "internal-secret", output: "internal-secret" }));
    });
    return service;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
