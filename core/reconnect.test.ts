import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { backoffDelay, OutageLog } from "./reconnect.js";

describe("backoffDelay", () => {
  it("doubles up to its ceiling, each wait a random share between half and whole", () => {
    const options = { firstMs: 100, maxMs: 1_000 };
    const ceilings = [100, 200, 400, 800, 1_000, 1_000, 1_000];
    for (const [i, ceiling] of ceilings.entries()) {
      const delays = Array.from({ length: 50 }, () => backoffDelay(i + 1, options));
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
      // Jittered: a fleet reconnecting at once does not pick one moment.
      expect(new Set(delays).size).toBeGreaterThan(1);
    }
  });
});

function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  return {
    lines,
    warn: (fields: object, message: string) =>
      lines.push({ level: "warn", message, fields: fields as Record<string, unknown> }),
    info: (fields: object, message: string) =>
      lines.push({ level: "info", message, fields: fields as Record<string, unknown> }),
  };
}

describe("OutageLog", () => {
  it("writes an outage's first failure, each different one, and the recovery, once each", () => {
    const logger = recordingLogger();
    const outages = new OutageLog(logger, "redis");
    for (let i = 0; i < 20; i++) outages.failed(new Error("connect ECONNREFUSED"));
    expect(outages.failure).toBe("connect ECONNREFUSED");
    outages.failed(new Error("connect ETIMEDOUT"), { attempt: 21 });
    outages.restored();
    outages.restored();
    expect(logger.lines.map((line) => [line.level, line.message])).toEqual([
      ["warn", "redis: unavailable; retrying"],
      ["warn", "redis: still unavailable"],
      ["info", "redis: back"],
    ]);
    expect(logger.lines[1]?.fields).toMatchObject({ attempt: 21, connection: "redis" });
    expect(outages.failure).toBeUndefined();
  });

  it("hears a watched connection's errors, so an emitter's unheard 'error' cannot end the process", () => {
    const logger = recordingLogger();
    const connection = new OutageLog(logger, "signals").watch(new EventEmitter());
    expect(() => connection.emit("error", new Error("socket closed"))).not.toThrow();
    connection.emit("ready");
    expect(logger.lines.map((line) => line.message)).toEqual([
      "signals: unavailable; retrying",
      "signals: back",
    ]);
  });
});
