import type { RequestHandler } from "express";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { FastRoute } from "../../core/index.js";

/** One Prometheus registry per process, served at /metrics. */
export interface HttpMetrics {
  registry: Registry;
  middleware: RequestHandler;
  /** The same request metrics for a route answered ahead of express, under `route`. */
  timed(route: string, handler: FastRoute): FastRoute;
}

export function createHttpMetrics(prefix = "switchboard_"): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  const requests = new Counter({
    name: `${prefix}http_requests_total`,
    help: "HTTP requests answered, by method, route and status.",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: "Time to answer an HTTP request, by method and route.",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const observe = (method: string, route: string, status: number, started: bigint) => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    requests.inc({ method, route, status: String(status) });
    duration.observe({ method, route }, seconds);
  };
  const middleware: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      // The matched route pattern, never the raw path: ids in paths would explode the series.
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : "unmatched";
      observe(req.method, route, res.statusCode, started);
    });
    next();
  };
  const timed = (route: string, handler: FastRoute): FastRoute => {
    return (req, res) => {
      const started = process.hrtime.bigint();
      if (!handler(req, res)) return false;
      res.on("finish", () => observe(req.method ?? "", route, res.statusCode, started));
      return true;
    };
  };
  return { registry, middleware, timed };
}
