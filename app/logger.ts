import type { Writable } from "node:stream";
import pino, { type Logger } from "pino";

export type { Logger } from "pino";

/** How much log output may wait for a slow reader before lines are dropped. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

/**
 * Where a process's log lines go: stdout, without ever blocking on it or spinning on it.
 *
 * pino's own stdout destination flushes synchronously when the process exits and retries a
 * write that cannot go through (EAGAIN on a full pipe, EPIPE on a closed one) forever, so a
 * process whose log reader stopped reading or went away never exited, deaf to every signal
 * (issue 21). Here lines go through `process.stdout`, which never blocks on a pipe or socket;
 * at most `maxPendingBytes` wait for a slow reader, later lines are dropped and counted (the
 * count is told once the reader catches up), and once the reader is gone lines are dropped.
 */
export class StdoutDestination {
  /** Lines dropped since the reader last kept up. */
  dropped = 0;
  private broken = false;
  /** Told how many lines were dropped once writing works again. */
  onResume: ((dropped: number) => void) | undefined;

  constructor(
    private readonly stream: Writable = process.stdout,
    private readonly maxPendingBytes = MAX_PENDING_BYTES,
  ) {
    // A closed pipe (EPIPE) or any other write error: nobody reads us any more. Without a
    // listener the error would be thrown as an uncaught exception.
    stream.on("error", () => {
      this.broken = true;
    });
    stream.on("drain", () => {
      if (this.dropped === 0 || this.broken) return;
      const dropped = this.dropped;
      this.dropped = 0;
      this.onResume?.(dropped);
    });
  }

  write(line: string): void {
    if (this.broken || this.stream.destroyed) return;
    if (this.stream.writableLength > this.maxPendingBytes) {
      this.dropped += 1;
      return;
    }
    this.stream.write(line);
  }
}

/**
 * JSON lines on stdout (or the given stream). Secrets that may pass through a request are
 * redacted here once, so no call site has to remember.
 */
export function createLogger(
  options: { level: string; name?: string },
  destination?: pino.DestinationStream,
): Logger {
  const stdout = destination ? undefined : new StdoutDestination();
  const logger = pino(
    {
      level: options.level,
      name: options.name ?? "switchboard",
      redact: {
        paths: [
          "req.headers.authorization",
          "req.headers.cookie",
          'req.headers["x-slack-signature"]',
          'res.headers["set-cookie"]',
        ],
        censor: "[redacted]",
      },
    },
    destination ?? stdout,
  );
  if (stdout) {
    stdout.onResume = (dropped) =>
      logger.warn({ dropped }, `dropped ${dropped} log lines while stdout was not being read`);
  }
  return logger;
}
