/**
 * The composition root: configuration, database, logging, the HTTP server, process
 * lifecycle and the `switchboard` CLI. It wires the other modules; none of them imports it.
 */
export { buildCli, runCli } from "./cli.js";
export {
  type Config,
  ConfigError,
  configReferenceTable,
  configSchema,
  loadConfig,
} from "./config/index.js";
export {
  type Database,
  migrateDown,
  migrateLatest,
  migrationStatus,
  openDatabase,
} from "./db/index.js";
export {
  createHttpApp,
  createHttpMetrics,
  type ReadinessCheck,
  startHttpServer,
} from "./http/index.js";
export { Lifecycle } from "./lifecycle.js";
export { createLogger, type Logger } from "./logger.js";
