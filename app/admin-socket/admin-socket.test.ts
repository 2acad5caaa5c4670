import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { type AdminSocket, listenAdminSocket, routeCommand, sendCommand } from "./index.js";

/**
 * The admin socket in one process, with real sockets and files: what it allows, what it
 * refuses. (test/cli-beside-serve.test.ts runs it between real `switchboard` processes.)
 */

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function privateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-sock-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A logger whose lines the test reads. */
function recordingLogger() {
  const lines: string[] = [];
  const logger = createLogger({ level: "info" }, { write: (line: string) => lines.push(line) });
  return { logger, lines: () => lines.join("") };
}

/** Another live process (a plain node that waits), to stand as the data dir's holder. */
function holdingProcess(dataDir: string): ChildProcess {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
    stdio: "ignore",
  });
  writeFileSync(join(dataDir, "switchboard.pid"), String(child.pid));
  cleanups.push(() => {
    child.kill("SIGKILL");
  });
  return child;
}

async function listen(dataDir: string, logger = recordingLogger().logger): Promise<AdminSocket> {
  const socket = await listenAdminSocket({
    dataDir,
    logger,
    async run(request, io) {
      io.stdout(`argv ${request.argv.join(" ")} in ${request.cwd}\n`);
      if (request.argv[0] === "stdin") io.stdout(`read ${(await io.readStdin()).length} chars\n`);
      io.stderr("a warning\n");
      return request.argv[0] === "fail" ? 3 : 0;
    },
  });
  if (!socket) throw new Error("the admin socket did not open");
  cleanups.push(() => socket.close());
  return socket;
}

describe("the admin socket", () => {
  it("runs a command with its output, stdin and exit status, on a 0600 socket it removes at close", async () => {
    const dir = privateDir();
    const socket = await listen(dir);
    expect(statSync(socket.path).mode & 0o777).toBe(0o600);
    holdingProcess(dir);

    const output: string[] = [];
    const io = {
      stdout: (text: string) => output.push(`out: ${text}`),
      stderr: (text: string) => output.push(`err: ${text}`),
      readStdin: async () => "x".repeat(5000),
    };
    const route = await routeCommand(dir);
    expect(route.kind).toBe("server");
    if (route.kind !== "server") return;
    const code = await sendCommand(route, { argv: ["stdin", "a b"], cwd: "/srv", user: "t" }, io);
    expect([code, output]).toEqual([
      0,
      ["out: argv stdin a b in /srv\n", "out: read 5000 chars\n", "err: a warning\n"],
    ]);

    const failed = await routeCommand(dir);
    if (failed.kind !== "server") throw new Error("expected the server");
    expect(await sendCommand(failed, { argv: ["fail"], cwd: "/", user: "t" }, io)).toBe(3);

    await socket.close();
    expect(existsSync(socket.path)).toBe(false);
  });

  it("answers a malformed request with exit status 2 and words", async () => {
    const dir = privateDir();
    const socket = await listen(dir);
    const messages = await new Promise<string>((resolve) => {
      const client = connect(socket.path);
      let text = "";
      client.setEncoding("utf8");
      client.on("data", (chunk: string) => {
        text += chunk;
      });
      client.on("close", () => resolve(text));
      client.write('{"argv": "agents list"}\n');
    });
    expect(
      messages
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([{ stderr: "switchboard: The request has no command line (argv).\n" }, { exit: 2 }]);
  });

  it("replaces a socket left by a process killed with SIGKILL", async () => {
    const dir = privateDir();
    const path = join(dir, "switchboard.sock");
    const crashed = spawn(
      process.execPath,
      ["-e", "require('node:net').createServer().listen(process.argv[1])", path],
      { stdio: "ignore" },
    );
    for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
    crashed.kill("SIGKILL");
    await new Promise((resolve) => crashed.once("exit", resolve));
    expect(statSync(path).isSocket()).toBe(true);

    const socket = await listen(dir);
    holdingProcess(dir);
    const route = await routeCommand(dir);
    expect(route.kind).toBe("server");
    if (route.kind === "server") route.socket.destroy();
    expect(socket.path).toBe(path);
  });

  it("stays off, saying why, where other users could write beside it", async () => {
    const dir = privateDir();
    chmodSync(dir, 0o777);
    const { logger, lines } = recordingLogger();
    const socket = await listenAdminSocket({ dataDir: dir, logger, run: async () => 0 });
    expect(socket).toBeUndefined();
    expect(existsSync(join(dir, "switchboard.sock"))).toBe(false);
    expect(lines()).toContain(
      `the admin socket is off, so CLI commands cannot reach this server: other OS users may write to ${dir} (mode 0777)`,
    );
  });

  it("runs a command here when no live process holds the data dir", async () => {
    const dir = privateDir();
    expect(await routeCommand(dir)).toEqual({ kind: "direct" });
    // A holder that has died (kill -9) leaves a stale lock: the command runs here.
    const gone = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => gone.once("exit", resolve));
    writeFileSync(join(dir, "switchboard.pid"), String(gone.pid));
    expect(await routeCommand(dir)).toEqual({ kind: "direct" });
  });
});
