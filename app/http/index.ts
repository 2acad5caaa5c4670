export { createHttpApp, type HttpAppOptions } from "./app.js";
export { errorHandler, routeNotFound, toSwitchboardError } from "./errors.js";
export type { ReadinessCheck } from "./health.js";
export { createHttpMetrics, type HttpMetrics } from "./metrics.js";
export { type HttpServerHandle, startHttpServer } from "./server.js";
