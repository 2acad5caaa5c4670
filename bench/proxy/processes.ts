import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/** A bench process (upstream, a proxy) started apart, so its CPU and memory are its own. */
export interface BenchProcess {
  name: string;
  url: string;
  /** Extra words after READY <url> (the Switchboard proxy prints its key). */
  extra: string[];
  child: ChildProcess;
  /** User + system CPU time so far, in milliseconds. */
  cpuMs(): number;
  rssMb(): number;
  stop(): Promise<void>;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Starts `node ARGS` and waits for its `READY <url> …` line, or — for a program that prints
 * its own banner (Portkey) — for `readyWhen` on stdout, with the url given.
 */
export async function startProcess(
  name: string,
  args: string[],
  options: { url?: string; readyWhen?: RegExp } = {},
): Promise<BenchProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const ready = await new Promise<string[]>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${stderr}`)), 60_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (options.readyWhen && options.url && options.readyWhen.test(out)) {
        clearTimeout(timer);
        resolve([options.url]);
        return;
      }
      const line = out.split("\n").find((l) => l.startsWith("READY "));
      if (line) {
        clearTimeout(timer);
        resolve(line.trim().split(/\s+/).slice(1));
      }
    });
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}): ${stderr}`)));
  });
  const pid = child.pid as number;
  return {
    name,
    url: ready[0] as string,
    extra: ready.slice(1),
    child,
    cpuMs() {
      // Fields after the command name: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    },
    rssMb() {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      });
    },
  };
}
