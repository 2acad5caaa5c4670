import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXIT_TIMED_OUT, Lifecycle } from "./lifecycle.js";
import { createLogger } from "./logger.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function quietLogger(lines: string[] = []) {
  return createLogger({ level: "info" }, { write: (line: string) => lines.push(line) });
}

describe("Lifecycle", () => {
  it("stops steps last-registered first, giving up on one that never ends", async () => {
    const order: string[] = [];
    const lines: string[] = [];
    const lifecycle = new Lifecycle(quietLogger(lines), 400);
    lifecycle.onStop("pool", async () => {
      order.push("pool");
    });
    lifecycle.onStop("stuck", () => new Promise<void>(() => {}));
    lifecycle.onStop("http", async () => {
      order.push("http");
    });
    await lifecycle.stop();
    expect(order).toEqual(["http", "pool"]);
    expect(lines.join("")).toContain('"step":"stuck"');
  });

  it("exits with status 1 at the limit when exiting after the steps did not end the process", async () => {
    // As when an exit handler hangs (pino's own stdout flush did, on a full pipe).
    const exits: number[] = [];
    const lifecycle = new Lifecycle(quietLogger(), 300);
    lifecycle.onStop("quick", async () => {});
    const before = { term: process.listeners("SIGTERM"), int: process.listeners("SIGINT") };
    lifecycle.handleSignals({ exit: (code) => exits.push(code), watchdog: false });
    try {
      process.emit("SIGTERM", "SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(exits).toEqual([0, EXIT_TIMED_OUT]);
    } finally {
      for (const [signal, kept] of [
        ["SIGTERM", before.term],
        ["SIGINT", before.int],
      ] as const) {
        for (const listener of process.listeners(signal))
          if (!kept.includes(listener)) process.off(signal, listener);
      }
    }
  });

  it("ends a process whose main thread is stuck for good, a little after the limit", async () => {
    // A real process: its one step spins forever, so no timer or signal handler of its runs.
    const script = `
      import { Lifecycle } from "./app/lifecycle.ts";
      import { createLogger } from "./app/logger.ts";
      const lifecycle = new Lifecycle(createLogger({ level: "info" }), 500);
      lifecycle.onStop("spins", async () => { for (;;) {} });
      lifecycle.handleSignals();
      setInterval(() => {}, 1_000);
      console.log("ready");
    `;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      }),
    );
    child.kill("SIGTERM");
    // Not a clean exit, but an exit: the watchdog thread killed it.
    expect(await exited).toBe("SIGKILL");
  }, 30_000);
});
