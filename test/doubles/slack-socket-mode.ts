import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { acceptWebSocket, readClientFrame, serverFrame } from "./websocket-frames.js";

/**
 * A local stand-in for Slack's Socket Mode endpoint (the wss:// URL `apps.connections.open`
 * returns): a bare RFC 6455 server, enough for one client. It greets with `hello` as Slack
 * does, hands over envelopes, answers pings (the client checks for pongs) and pings back
 * (the client drops a connection that never pings), and records what the client sends back:
 * the acks, `{ envelope_id }`.
 */
export class SlackSocketModeDouble {
  readonly received: Record<string, unknown>[] = [];
  private socket: Socket | undefined;
  private readonly waiters: (() => void)[] = [];
  private pinger: NodeJS.Timeout | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<SlackSocketModeDouble> {
    const server = createServer((_req, res) => res.writeHead(426).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const double = new SlackSocketModeDouble(server, `ws://127.0.0.1:${port}/link`);
    server.on("upgrade", (req, socket) => double.accept(req, socket as Socket));
    return double;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  /** Resolves once a client is connected (after `hello`). */
  async connection(): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Sends an Events API envelope; resolves to its envelope id. */
  sendEvent(payload: Record<string, unknown>): string {
    const envelopeId = randomUUID();
    this.send({
      envelope_id: envelopeId,
      type: "events_api",
      payload,
      accepts_response_payload: false,
      retry_attempt: 0,
      retry_reason: "",
    });
    return envelopeId;
  }

  send(message: Record<string, unknown>): void {
    if (!this.socket) throw new Error("no Socket Mode client is connected");
    this.socket.write(serverFrame(0x1, Buffer.from(JSON.stringify(message))));
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    this.socket?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(req: IncomingMessage, socket: Socket): void {
    if (!acceptWebSocket(req, socket)) return;
    this.socket?.destroy(); // one client at a time, like one app connection
    this.socket = socket;
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const parsed = readClientFrame(buffered);
        if (!parsed) break;
        buffered = buffered.subarray(parsed.length);
        this.onFrame(socket, parsed.opcode, parsed.payload);
      }
    });
    socket.on("error", () => undefined);
    this.send({ type: "hello", num_connections: 1, connection_info: { app_id: "AAGENTS" } });
    clearInterval(this.pinger);
    this.pinger = setInterval(() => {
      if (!socket.destroyed) socket.write(serverFrame(0x9, Buffer.from("ping")));
    }, 5_000);
    for (const wake of this.waiters.splice(0)) wake();
  }

  private onFrame(socket: Socket, opcode: number, payload: Buffer): void {
    if (opcode === 0x9)
      socket.write(serverFrame(0xa, payload)); // ping → pong
    else if (opcode === 0x8) socket.end(serverFrame(0x8, Buffer.alloc(0)));
    else if (opcode === 0x1) this.received.push(JSON.parse(payload.toString()));
  }
}
