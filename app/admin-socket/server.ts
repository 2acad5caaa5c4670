import { chmodSync, lstatSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { resolve } from "node:path";
import type { Logger } from "../logger.js";
import {
  adminSocketPath,
  type CommandRequest,
  pathProblem,
  readMessages,
  type ServerMessage,
  send,
  socketProblem,
} from "./protocol.js";

/** What a command taken over the socket writes to, and reads its caller's stdin from. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
}

export interface AdminSocketOptions {
  /** The embedded database's folder, which this process holds (its lock is taken). */
  dataDir: string;
  logger: Logger;
  /** Runs one command; resolves to its exit status. */
  run(request: CommandRequest, io: CommandIo): Promise<number>;
}

export interface AdminSocket {
  readonly path: string;
  /** Takes no more commands, waits for those running, and removes the socket. */
  close(): Promise<void>;
}

/**
 * Listens on `<dataDir>/switchboard.sock`. Only the process holding the data dir's lock calls
 * this, so a socket already there is left from a crash and is replaced. Resolves to undefined,
 * with a warning saying why, where no safe socket can be made (CLI commands then say what to
 * do instead).
 */
export async function listenAdminSocket(
  options: AdminSocketOptions,
): Promise<AdminSocket | undefined> {
  const { logger } = options;
  const path = adminSocketPath(resolve(options.dataDir));
  const off = (reason: string) => {
    logger.warn(
      `the admin socket is off, so CLI commands cannot reach this server: ${reason}. Stop the server to run them, or use PostgreSQL (DATABASE_URL).`,
    );
    return undefined;
  };
  const problem = pathProblem(path);
  if (problem) return off(problem);
  const stale = lstatOrUndefined(path);
  if (stale && !stale.isSocket() && !stale.isSymbolicLink()) {
    return off(`${path} exists and is not a socket; remove it`);
  }
  rmSync(path, { force: true });

  const running = new Set<Promise<void>>();
  const connections = new Set<Socket>();
  /** Connections that have not sent their command yet: nothing to wait for at close. */
  const idle = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    idle.add(socket);
    socket.on("close", () => {
      connections.delete(socket);
      idle.delete(socket);
    });
    socket.on("error", () => socket.destroy());
    const done = handle(socket, options, () => idle.delete(socket));
    running.add(done);
    void done.finally(() => running.delete(done));
  });
  // Made 0600 from the start (the umask applies as the socket file is bound, synchronously
  // within listen), so there is no moment when another user could connect.
  const umask = process.umask(0o177);
  const listening = new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      resolveListen();
    });
  });
  try {
    server.listen(path);
  } finally {
    process.umask(umask);
  }
  try {
    await listening;
  } catch (error) {
    return off((error as Error).message);
  }
  chmodSync(path, 0o600);
  const unsafe = socketProblem(path);
  if (unsafe) {
    await closeServer(server);
    rmSync(path, { force: true });
    return off(unsafe);
  }
  logger.info({ socket: path }, "CLI commands are taken on the admin socket");
  return {
    path,
    async close() {
      const closed = closeServer(server);
      for (const socket of idle) socket.destroy();
      await Promise.allSettled([...running]);
      for (const socket of connections) socket.destroy();
      await closed;
      rmSync(path, { force: true });
    },
  };
}

/** One connection: one command, its output streamed back, its exit status last. */
async function handle(
  socket: Socket,
  options: AdminSocketOptions,
  onCommand: () => void,
): Promise<void> {
  const { logger } = options;
  let request: CommandRequest | undefined;
  let stdinWanted: { resolve(value: string): void; reject(error: Error): void } | undefined;
  const gone = new Promise<void>((resolveGone) => socket.once("close", () => resolveGone()));
  const received = new Promise<CommandRequest | string>((resolveRequest) => {
    readMessages(
      socket,
      (message) => {
        if (!request) {
          const valid = asRequest(message);
          if (typeof valid === "string") return resolveRequest(valid);
          request = valid;
          return resolveRequest(valid);
        }
        const answer = message as { stdin?: unknown; stdinError?: unknown };
        const waiting = stdinWanted;
        stdinWanted = undefined;
        if (typeof answer.stdin === "string") waiting?.resolve(answer.stdin);
        else
          waiting?.reject(new Error(String(answer.stdinError ?? "no value was read from stdin")));
      },
      (reason) => resolveRequest(`The server got ${reason}.`),
    );
    void gone.then(() => resolveRequest("The caller went away before sending a command."));
  });
  const reply = (message: ServerMessage) => send(socket, message);
  const first = await received;
  onCommand();
  if (typeof first === "string") {
    reply({ stderr: `switchboard: ${first}\n` });
    reply({ exit: 2 });
    socket.end();
    return;
  }
  void gone.then(() => stdinWanted?.reject(new Error("the caller went away")));
  const io: CommandIo = {
    stdout: (text) => reply({ stdout: text }),
    stderr: (text) => reply({ stderr: text }),
    readStdin() {
      if (stdinWanted) return Promise.reject(new Error("stdin is read once per command"));
      return new Promise((resolveStdin, reject) => {
        stdinWanted = { resolve: resolveStdin, reject };
        reply({ stdin: true });
      });
    },
  };
  const started = Date.now();
  let exit = 1;
  try {
    exit = await options.run(first, io);
  } catch (error) {
    // The runner reports a command's own failures; this is one of its own.
    logger.error({ err: error }, "a CLI command over the admin socket failed");
    reply({ stderr: `switchboard: ${(error as Error).message}\n` });
  }
  reply({ exit });
  socket.end();
  logger.info(
    { command: commandWords(first.argv), user: first.user, exit, ms: Date.now() - started },
    "CLI command taken over the admin socket",
  );
}

/** The request, or what is wrong with it. */
function asRequest(message: unknown): CommandRequest | string {
  const { argv, cwd, user } = (message ?? {}) as Partial<Record<keyof CommandRequest, unknown>>;
  if (!Array.isArray(argv) || !argv.every((arg) => typeof arg === "string")) {
    return "The request has no command line (argv).";
  }
  if (typeof cwd !== "string" || !cwd.startsWith("/")) {
    return "The request has no working folder (cwd).";
  }
  return { argv, cwd, user: typeof user === "string" ? user.slice(0, 100) : "unknown" };
}

/** `agents list`: what the log names, never the arguments (emails, reasons). */
function commandWords(argv: string[]): string {
  const words = argv.filter((arg, i) => !arg.startsWith("-") && argv[i - 1] !== "--config-file");
  return words.slice(0, 2).join(" ").slice(0, 60);
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => server.close(() => resolveClose()));
}
