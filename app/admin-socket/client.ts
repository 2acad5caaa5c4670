import { statSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { resolve } from "node:path";
import { dataDirHolder, LOCK_FILE } from "../db/index.js";
import {
  adminSocketPath,
  type CommandRequest,
  readMessages,
  type ServerMessage,
  send,
  socketProblem,
} from "./protocol.js";

/** Where a CLI command on the embedded database runs. */
export type CommandRoute =
  | { kind: "direct" }
  | { kind: "server"; socket: Socket; holder: number; path: string };

/** Neither path is open: the message says which process holds the database and what to do. */
export class NoRouteError extends Error {}

/** A server that took the lock this recently may still be opening its parts. */
const STARTING_MS = 60_000;
/** How long a command waits for such a server (or another CLI command) to let it in. */
const WAIT_MS = 15_000;

/**
 * Run here when no live process holds the embedded database in `dataDir`; else through the
 * holder's admin socket. A holder without one (still starting, another CLI command, or a
 * process that takes no commands) is waited for a while if it took the lock lately, then
 * named in a NoRouteError saying what to do.
 */
export async function routeCommand(dataDir: string): Promise<CommandRoute> {
  const root = resolve(dataDir);
  const path = adminSocketPath(root);
  const started = Date.now();
  for (;;) {
    const holder = dataDirHolder(root);
    if (holder === undefined) return { kind: "direct" };
    const socket = await tryConnect(path);
    if (socket) return { kind: "server", socket, holder, path };
    if (Date.now() - started >= waitLimit(root)) throw new NoRouteError(noRoute(root, holder));
    await new Promise((wake) => setTimeout(wake, 200));
  }
}

function waitLimit(root: string): number {
  try {
    const age = Date.now() - statSync(`${root}/${LOCK_FILE}`).mtimeMs;
    return age < STARTING_MS ? WAIT_MS : 0;
  } catch {
    return 0;
  }
}

function noRoute(root: string, holder: number): string {
  return (
    `The embedded database in ${root} is in use by process ${holder}, which does not take CLI commands ` +
    `(a running \`switchboard serve\` takes them on ${adminSocketPath(root)}; this process has no such socket: ` +
    "it may be another `switchboard` command still at work, another kind of process, an older Switchboard, or a server whose admin socket is off, as its log says). " +
    `Stop process ${holder} and run the command again, or set DATABASE_URL to a PostgreSQL database, which the server and the CLI can share.`
  );
}

/** A connection to a trustworthy socket at `path`; undefined when none answers there. */
async function tryConnect(path: string): Promise<Socket | undefined> {
  let problem: string | undefined;
  try {
    problem = socketProblem(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (problem)
    throw new NoRouteError(`The running server's admin socket is not safe to use: ${problem}.`);
  return new Promise((resolveConnect) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolveConnect(socket);
    });
    // Refused: the file is left from a process that has stopped, or one that is stopping.
    socket.once("error", () => resolveConnect(undefined));
  });
}

export interface CallerIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
}

/** Sends the command, writes its output as it comes, and resolves to its exit status. */
export function sendCommand(
  route: Extract<CommandRoute, { kind: "server" }>,
  request: CommandRequest,
  io: CallerIo,
): Promise<number> {
  const { socket, holder } = route;
  return new Promise((resolveExit) => {
    let exit: number | undefined;
    const fail = (reason: string) => {
      io.stderr(`switchboard: ${reason}\n`);
      exit ??= 1;
      socket.destroy();
    };
    readMessages(
      socket,
      (message) => {
        const m = message as { [K in MessageKey]?: unknown };
        if (typeof m.stdout === "string") io.stdout(m.stdout);
        else if (typeof m.stderr === "string") io.stderr(m.stderr);
        else if (typeof m.exit === "number") exit = m.exit;
        else if (m.stdin === true) {
          io.readStdin().then(
            (value) => send(socket, { stdin: value }),
            (error: Error) => send(socket, { stdinError: error.message }),
          );
        }
      },
      (reason) => fail(`the server (process ${holder}) sent ${reason}.`),
    );
    socket.on("error", (error) => fail(`the connection to the server failed: ${error.message}`));
    socket.on("close", () => {
      if (exit === undefined) {
        io.stderr(
          `switchboard: the server (process ${holder}) closed the connection before the command finished; it may be stopping. Whether the command took effect, a list command shows.\n`,
        );
      }
      resolveExit(exit ?? 1);
    });
    send(socket, request);
  });
}

/** stdout, stderr, stdin or exit. */
type MessageKey = ServerMessage extends infer M ? (M extends unknown ? keyof M : never) : never;
