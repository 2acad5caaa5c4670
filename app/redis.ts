import { Redis } from "ioredis";
import { backoffDelay, OutageLog } from "../core/index.js";
import type { ReadinessCheck } from "./http/index.js";
import type { Logger } from "./logger.js";

/**
 * How every Redis connection of a process retries while Redis is away: forever, backing
 * off to 5 s with jitter, so a fleet of processes does not reconnect in lockstep.
 */
export const redisRetryStrategy = (attempt: number): number =>
  backoffDelay(attempt, { firstMs: 100, maxMs: 5_000 });

/**
 * The process's Redis connection. It keeps reconnecting while Redis is away; commands fail
 * fast meanwhile (no offline queue), so callers and /readyz see the outage at once. Its
 * outages are logged once each, as JSON (ioredis would print an unheard "error" to stderr).
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new OutageLog(logger, "redis").watch(
    new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: redisRetryStrategy,
    }),
  );
  redis.connect().catch(() => {
    // Reported by the "error" listener; the retry strategy keeps trying.
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
