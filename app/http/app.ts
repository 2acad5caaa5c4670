import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import express, { type Express } from "express";
import { pinoHttp } from "pino-http";
import type { Logger } from "../logger.js";
import { errorHandler, routeNotFound } from "./errors.js";
import { healthRouter, type ReadinessCheck } from "./health.js";
import type { HttpMetrics } from "./metrics.js";
import { refuseUnstorableUrl } from "./refuse-unstorable-url.js";
import { securityHeaders } from "./security-headers.js";

export interface HttpAppOptions {
  logger: Logger;
  metrics: HttpMetrics;
  checks: () => readonly ReadinessCheck[];
  isStopping: () => boolean;
  /** Mounts the modules' routes (site, API, bot endpoints) between the health routes and the 404. */
  mount?: (app: Express) => void;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const QUIET_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/** Keeps a caller's request id when it looks like one (so traces join up), else makes one. */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers["x-request-id"];
  const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader("x-request-id", id);
  return id;
}

export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(
    pinoHttp({
      logger: options.logger,
      genReqId: requestId,
      autoLogging: { ignore: (req) => QUIET_PATHS.has(req.url?.split("?")[0] ?? "") },
      customLogLevel: (_req, res, error) =>
        error || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "info" : "debug",
    }),
  );
  app.use(options.metrics.middleware);
  app.use(securityHeaders);
  app.use(
    healthRouter({
      checks: options.checks,
      registry: options.metrics.registry,
      isStopping: options.isStopping,
    }),
  );
  app.use(refuseUnstorableUrl);
  options.mount?.(app);
  app.use(routeNotFound);
  app.use(errorHandler);
  return app;
}
