/** The n8n runtime: a workflow behind a Webhook trigger (see README.md for the wire). */
export { N8nRuntime } from "./n8n-runtime.js";
export { type N8nSettings, n8nSettings } from "./settings.js";
