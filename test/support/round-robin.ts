import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * The simplest load balancer in front of several `switchboard serve` processes: each new TCP
 * connection goes to the next backend in turn, bytes piped both ways untouched (HTTP
 * keep-alive stays on one backend, as behind a layer-4 balancer). A backend that refuses
 * the connection is skipped for the next one, so a stopped process takes no traffic.
 * Loopback only; for tests and benches of a fleet.
 */
export class RoundRobin {
  /** Connections handed to each backend, in the order given. */
  readonly connections: number[];
  private next = 0;
  private readonly open = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly backends: number[],
    readonly url: string,
  ) {
    this.connections = backends.map(() => 0);
  }

  /** Listens on a free loopback port in front of the backends' loopback ports. */
  static async start(backendPorts: number[]): Promise<RoundRobin> {
    let balancer: RoundRobin | undefined;
    const server = createServer((client) => balancer?.accept(client));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    balancer = new RoundRobin(server, backendPorts, `http://127.0.0.1:${port}`);
    return balancer;
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, tried = 0): void {
    if (tried === 0) {
      this.track(client);
      client.pause();
    }
    const index = this.next % this.backends.length;
    this.next += 1;
    const upstream = connect({ host: "127.0.0.1", port: this.backends[index] as number });
    this.track(upstream);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      this.connections[index] = (this.connections[index] ?? 0) + 1;
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      client.resume();
    });
    upstream.on("error", () => {
      if (connected) client.destroy();
      // Refused: the next backend, until each was tried once.
      else if (tried + 1 < this.backends.length) this.accept(client, tried + 1);
      else client.destroy();
    });
  }

  private track(socket: Socket): void {
    this.open.add(socket);
    socket.once("close", () => this.open.delete(socket));
  }
}
