/** The Databricks runtime: agents on Model Serving endpoints or Databricks Apps (ResponsesAgent). */
export { DatabricksRuntime } from "./databricks-runtime.js";
export { type DatabricksSettings, databricksSettings } from "./settings.js";
