/** The `a2a` runtime adapter: any agent that speaks the A2A protocol (1.0 or 0.3). */
export { A2aRuntime, type A2aRuntimeOptions } from "./a2a-runtime.js";
export { CARD_TTL_MS, cardUrlFor } from "./agent-cards.js";
export { type A2aSettings, a2aSettings } from "./settings.js";
