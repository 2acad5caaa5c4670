import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

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
    this.socket.write(frame(0x1, Buffer.from(JSON.stringify(message))));
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    this.socket?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(req: IncomingMessage, socket: Socket): void {
    const key = req.headers["sec-websocket-key"];
    if (typeof key !== "string") return void socket.destroy();
    const accept = createHash("sha1")
      .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    this.socket?.destroy(); // one client at a time, like one app connection
    this.socket = socket;
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const parsed = readFrame(buffered);
        if (!parsed) break;
        buffered = buffered.subarray(parsed.length);
        this.onFrame(socket, parsed.opcode, parsed.payload);
      }
    });
    socket.on("error", () => undefined);
    this.send({ type: "hello", num_connections: 1, connection_info: { app_id: "AAGENTS" } });
    clearInterval(this.pinger);
    this.pinger = setInterval(() => {
      if (!socket.destroyed) socket.write(frame(0x9, Buffer.from("ping")));
    }, 5_000);
    for (const wake of this.waiters.splice(0)) wake();
  }

  private onFrame(socket: Socket, opcode: number, payload: Buffer): void {
    if (opcode === 0x9)
      socket.write(frame(0xa, payload)); // ping → pong
    else if (opcode === 0x8) socket.end(frame(0x8, Buffer.alloc(0)));
    else if (opcode === 0x1) this.received.push(JSON.parse(payload.toString()));
  }
}

/** A server frame: final, unmasked. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 65_536
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLength(length)]);
  return Buffer.concat([header, payload]);
}

function bigLength(length: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(length));
  return buffer;
}

/** A client frame (masked, as clients must); undefined until all of it has arrived. */
function readFrame(data: Buffer): { opcode: number; payload: Buffer; length: number } | undefined {
  if (data.length < 2) return undefined;
  const opcode = (data[0] ?? 0) & 0x0f;
  const masked = ((data[1] ?? 0) & 0x80) !== 0;
  let length = (data[1] ?? 0) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (data.length < offset + length) return undefined;
  const payload = Buffer.from(data.subarray(offset, offset + length));
  if (masked) {
    for (let i = 0; i < payload.length; i++) {
      payload[i] = (payload[i] ?? 0) ^ (data[maskOffset + (i % 4)] ?? 0);
    }
  }
  return { opcode, payload, length: offset + length };
}
