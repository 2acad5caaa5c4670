/** Agents in Daytona sandboxes, through `@daytonaio/sdk`: one sandbox per session. */
export { DaytonaProvider } from "./daytona-provider.js";
export { DaytonaRuntime, type DaytonaRuntimeOptions } from "./daytona-runtime.js";
export { type DaytonaSettings, daytonaSettings } from "./settings.js";
