import { Router } from "express";
import type { Registry } from "prom-client";

/** Something the process needs in order to do its work: the database, Redis, OpenFGA. */
export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([check.check(), timeout]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz`: the process is up (for a liveness probe; never touches dependencies).
 * `/readyz`: every dependency answers; 503 naming what is down (for a readiness probe).
 * `/metrics`: Prometheus text.
 */
export function healthRouter(options: {
  checks: () => readonly ReadinessCheck[];
  registry: Registry;
  isStopping: () => boolean;
}): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (req, res) => {
    const checks = options.checks();
    const failures = await Promise.all(checks.map(runCheck));
    const report: Record<string, string> = {};
    const down: string[] = [];
    checks.forEach((check, i) => {
      const failure = failures[i];
      report[check.name] = failure === undefined ? "ok" : `down: ${failure}`;
      if (failure !== undefined) down.push(check.name);
    });
    if (options.isStopping()) down.unshift("process (shutting down)");
    if (down.length === 0) {
      res.json({ status: "ready", checks: report });
      return;
    }
    res.status(503).json({
      status: "unavailable",
      checks: report,
      error: {
        code: "service_unavailable",
        message: `Not ready: ${down.join(", ")} ${down.length === 1 ? "is" : "are"} down.`,
        request_id: req.id,
      },
    });
  });
  router.get("/metrics", async (_req, res) => {
    res.type(options.registry.contentType).send(await options.registry.metrics());
  });
  return router;
}
