export { ConfigError, loadConfig } from "./load.js";
export { configReferenceTable } from "./reference.js";
export { type Config, type ConfigVariable, configSchema, LOG_LEVELS } from "./schema.js";
