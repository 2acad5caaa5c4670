/**
 * The vendor-neutral sandbox runtime: a Switchboard session owns one sandbox (E2B, Daytona),
 * kept between turns and suspended after each; harness presets; sandbox-time cost; the
 * sweeper that destroys sandboxes nobody needs. Vendors plug in through `SandboxProvider`.
 */
export { type SandboxSize, sandboxTimeUsage } from "./cost.js";
export {
  type HarnessPlan,
  type HarnessTurn,
  type OutputReader,
  planHarness,
  TRANSCRIPT_FILE,
} from "./harness.js";
export { LABELS, sandboxLabels } from "./labels.js";
export {
  type SandboxCommand,
  type SandboxExit,
  SandboxGoneError,
  type SandboxInfo,
  type SandboxProvider,
  type SandboxSpec,
} from "./provider.js";
export {
  type SandboxHandle,
  type SandboxProviderFactory,
  SandboxRuntime,
  type SandboxRuntimeOptions,
  sandboxHandleOf,
} from "./sandbox-runtime.js";
export {
  checkHarness,
  HARNESSES,
  PROXY_ENV_NAMES,
  type SandboxSettings,
  sandboxSettingsShape,
} from "./settings.js";
export { commandLine, exportLines, quote } from "./shell.js";
export {
  type SandboxSweepOptions,
  type SweptSandbox,
  type SweptSession,
  sweepSandboxes,
} from "./sweeper.js";
