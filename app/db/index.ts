export { dataDirHolder, LOCK_FILE } from "./data-dir-lock.js";
export {
  type MigrationReport,
  type MigrationStatus,
  migrateDown,
  migrateLatest,
  migrationStatus,
} from "./migrate.js";
export { type Database, type DatabaseKind, type DatabaseOptions, openDatabase } from "./open.js";
export { isDatabaseUnavailable } from "./unavailable.js";
