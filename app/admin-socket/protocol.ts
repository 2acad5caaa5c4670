import { lstatSync, statSync } from "node:fs";
import type { Socket } from "node:net";
import { dirname, join } from "node:path";

/**
 * The admin socket: how `switchboard` CLI commands reach a running `switchboard serve` on the
 * embedded database, which serves one process only. A Unix domain socket in the data dir,
 * mode 0600, in a folder no one else may write to: only the OS user who owns the data (and
 * root) can reach it, and no network port is opened.
 *
 * Messages are JSON, one per line. The CLI sends a command; the server answers with its
 * output as it comes, may ask for the caller's stdin once (`secrets set`), and ends with the
 * exit status.
 */

export const SOCKET_FILE = "switchboard.sock";

/** The longest path a Unix socket can have (sun_path, less its terminating NUL). */
const MAX_SOCKET_PATH = process.platform === "darwin" ? 103 : 107;

/** The largest message taken either way (a command line, or a secret's value from stdin). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface CommandRequest {
  /** The command line after `switchboard`, e.g. ["agents", "list"]. */
  argv: string[];
  /** The caller's folder: relative paths in arguments are read from it. */
  cwd: string;
  /** The caller's OS user, for the server's log. */
  user: string;
}

/** Client to server after the request: the stdin the server asked for. */
export type ClientMessage = { stdin: string } | { stdinError: string };

export type ServerMessage =
  | { stdout: string }
  | { stderr: string }
  | { stdin: true }
  | { exit: number };

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, SOCKET_FILE);
}

/** Why a socket cannot be made or used at `path`, in words; undefined when nothing stands in the way. */
export function pathProblem(path: string): string | undefined {
  if (process.platform === "win32") return "admin sockets are not supported on Windows";
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    return `its path, ${path}, is longer than the ${MAX_SOCKET_PATH} bytes a socket's path may have: use a shorter SWITCHBOARD_DATA_DIR`;
  }
  return folderProblem(dirname(path));
}

/**
 * The socket's folder must belong to this user and be writable by no one else: otherwise
 * another user could put a socket of their own in its place between a check and a connect.
 */
function folderProblem(dir: string): string | undefined {
  const stats = statSync(dir);
  if (stats.uid !== process.getuid?.()) {
    return `${dir} belongs to another OS user (uid ${stats.uid}); run as that user`;
  }
  if ((stats.mode & 0o022) !== 0) {
    return `other OS users may write to ${dir} (mode ${octal(stats.mode)}); \`chmod go-w ${dir}\` makes it safe`;
  }
  return undefined;
}

/** Why the socket at `path` must not be trusted; undefined when it is this user's, 0600, in a safe folder. */
export function socketProblem(path: string): string | undefined {
  const problem = pathProblem(path);
  if (problem) return problem;
  const stats = lstatSync(path);
  if (!stats.isSocket()) return `${path} is not a socket`;
  if (stats.uid !== process.getuid?.()) {
    return `${path} belongs to another OS user (uid ${stats.uid})`;
  }
  if ((stats.mode & 0o077) !== 0) {
    return `other OS users may open ${path} (mode ${octal(stats.mode)})`;
  }
  return undefined;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

export function send(socket: Socket, message: ServerMessage | ClientMessage | CommandRequest) {
  if (socket.writable) socket.write(`${JSON.stringify(message)}\n`);
}

/**
 * Calls `onMessage` with each JSON line from `socket`; a line that is too long or not JSON
 * ends with `onBad` (and nothing more is read).
 */
export function readMessages(
  socket: Socket,
  onMessage: (message: unknown) => void,
  onBad: (reason: string) => void,
): void {
  let buffered = "";
  let bad = false;
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    if (bad) return;
    buffered += chunk;
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        bad = true;
        return onBad("a message that is not JSON");
      }
      onMessage(message);
    }
    if (Buffer.byteLength(buffered) > MAX_MESSAGE_BYTES) {
      bad = true;
      onBad(`a message over ${MAX_MESSAGE_BYTES} bytes`);
    }
  });
}
