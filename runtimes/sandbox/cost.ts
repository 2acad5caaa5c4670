import type { RuntimeUsage } from "../runtime.js";
import type { SandboxSettings } from "./settings.js";

/** A sandbox's size as priced: what it was created with. */
export interface SandboxSize {
  cpu: number;
  memoryGib: number;
}

/**
 * Sandbox time as a usage event: running seconds × (vCPUs × the vCPU-hour price + GiB ×
 * the GiB-hour price), marked as an estimate (the vendors' APIs report no price). Booked
 * beside the model spend the proxy books for the same run.
 */
export function sandboxTimeUsage(
  vendor: string,
  settings: Pick<SandboxSettings, "price_per_vcpu_hour_usd" | "price_per_gib_hour_usd">,
  size: SandboxSize,
  runningMs: number,
): RuntimeUsage {
  const hours = Math.max(0, runningMs) / 3_600_000;
  const perHour =
    size.cpu * settings.price_per_vcpu_hour_usd + size.memoryGib * settings.price_per_gib_hour_usd;
  return {
    model: `${vendor}-sandbox`,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: Math.round(hours * perHour * 1e8) / 1e8,
    costEstimated: true,
  };
}
