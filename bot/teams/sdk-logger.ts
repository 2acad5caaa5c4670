import type { ILogger } from "@microsoft/teams.common";
import type { Logger } from "pino";

/**
 * The Teams SDK's logger interface over pino, so its lines land in the same JSON log. Its
 * debug lines carry whole activities (people's messages): they stay at debug.
 */
export function teamsSdkLogger(logger: Logger): ILogger {
  const text = (parts: unknown[]) =>
    parts
      .map((part) =>
        typeof part === "string"
          ? part
          : part instanceof Error
            ? part.message
            : JSON.stringify(part),
      )
      .join(" ");
  const sdk: ILogger = {
    debug: (...parts) => logger.debug(text(parts)),
    info: (...parts) => logger.info(text(parts)),
    warn: (...parts) => logger.warn(text(parts)),
    // Its "errors" include every refused token: warnings here, the 401 is the answer.
    error: (...parts) => logger.warn(text(parts)),
    log: (_level: string, ...parts: unknown[]) => logger.debug(text(parts)),
    trace: (...parts) => logger.trace(text(parts)),
    child: (name: string) => teamsSdkLogger(logger.child({ sdk: name })),
  } as ILogger;
  return sdk;
}
