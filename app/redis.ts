import { Redis } from "ioredis";
import type { ReadinessCheck } from "./http/index.js";
import type { Logger } from "./logger.js";

/**
 * The process's Redis connection. It keeps reconnecting while Redis is away; commands fail
 * fast meanwhile (no offline queue), so callers and /readyz see the outage at once.
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 250, 2_000),
  });
  let lastError = "";
  redis.on("error", (error: Error) => {
    // One line per distinct failure, not one per reconnect attempt.
    if (error.message !== lastError)
      logger.warn({ err: error }, "redis connection failed; retrying");
    lastError = error.message;
  });
  redis.on("ready", () => {
    if (lastError) logger.info("redis connection restored");
    lastError = "";
  });
  redis.connect().catch(() => {
    // Reported by the "error" handler; the retry strategy keeps trying.
  });
  return redis;
}

export function redisReadiness(redis: Redis): ReadinessCheck {
  return {
    name: "redis",
    async check() {
      if (redis.status !== "ready") throw new Error(`connection is ${redis.status}`);
      await redis.ping();
    },
  };
}
