import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Where a load generator sends its requests, and with which headers. */
export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  failures: number;
}

const headerLines = (headers: Record<string, string>) =>
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");

/**
 * wrk (C, not Node) against one target: closed loop with `connections`, or paced when
 * `delayMs` is set (each connection waits that long between requests).
 */
export async function runWrk(
  target: Target,
  options: {
    bodyFile: string;
    connections: number;
    seconds: number;
    delayMs?: number;
    script: string;
  },
): Promise<LoadResult> {
  const threads = Math.min(2, options.connections);
  const { stdout } = await run(
    "wrk",
    [
      `-t${threads}`,
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      "--timeout",
      "10s",
      "-s",
      options.script,
      `${target.url}/v1/chat/completions`,
    ],
    {
      env: {
        ...process.env,
        BODY_FILE: options.bodyFile,
        HEADERS: headerLines(target.headers),
        DELAY_MS: String(options.delayMs ?? 0),
      },
      maxBuffer: 1 << 20,
    },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`wrk printed no result for ${target.name}: ${stdout}`);
  const r = JSON.parse(line.slice(7));
  return {
    requests: r.requests,
    seconds: r.duration_us / 1e6,
    p50: r.p50 / 1000,
    p99: r.p99 / 1000,
    failures: r.errors + r.non2xx,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Time to first byte of a streamed answer, from curl's `time_starttransfer` (microsecond
 * resolution; wrk only times whole responses). `parallel` curl processes each reuse one
 * connection for their share of `requests`.
 */
export async function runTtfb(
  target: Target,
  options: { bodyFile: string; parallel: number; requests: number; workDir: string },
): Promise<LoadResult> {
  const per = Math.ceil(options.requests / options.parallel) + 1;
  const entry = [
    `url = "${target.url}/v1/chat/completions"`,
    `data-binary = "@${options.bodyFile}"`,
    'header = "content-type: application/json"',
    ...Object.entries(target.headers).map(([k, v]) => `header = "${k}: ${v}"`),
    'output = "/dev/null"',
    'write-out = "%{http_code} %{time_starttransfer}\\n"',
  ].join("\n");
  const config = join(options.workDir, `curl-${target.name}.cfg`);
  writeFileSync(config, Array.from({ length: per }, () => entry).join("\nnext\n"));
  const started = process.hrtime.bigint();
  const outputs = await Promise.all(
    Array.from({ length: options.parallel }, () =>
      run("curl", ["-s", "-K", config], { maxBuffer: 1 << 22 }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const times: number[] = [];
  let failures = 0;
  for (const { stdout } of outputs) {
    // The first request of each curl also connects: left out, the rest reuse the connection.
    for (const line of stdout.trim().split("\n").slice(1)) {
      const [code, time] = line.split(" ");
      if (code !== "200") failures += 1;
      else times.push(Number(time) * 1000);
    }
  }
  times.sort((a, b) => a - b);
  return {
    requests: times.length + failures,
    seconds,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    failures,
  };
}
