import pino, { type Logger } from "pino";

export type { Logger } from "pino";

/**
 * JSON lines on stdout (or the given stream). Secrets that may pass through a request are
 * redacted here once, so no call site has to remember.
 */
export function createLogger(
  options: { level: string; name?: string },
  destination?: pino.DestinationStream,
): Logger {
  return pino(
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
    destination,
  );
}
