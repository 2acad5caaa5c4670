import { setTimeout as sleep } from "node:timers/promises";
import { costText } from "./wording.js";

/**
 * When a reply reads its run's cost again after the closing message, in ms after it. The
 * proxy writes its spend to the ledger every second (LedgerWriter's flush), so a model call
 * that finished as the run closed is booked within about two; the second read catches one
 * that was still streaming its last tokens, or a write retried after a failed flush.
 */
export const COST_RECHECKS_MS: readonly number[] = [3_000, 15_000];

/** Where a reply's progress keeps the cost its closing message shows. */
export const SHOWN_COST = "shownCostUsd";

/** The cost as people read it: two figures that read the same need no edit. */
export function costShown(costUsd: number): string {
  return costText(costUsd) ?? "";
}

/** Waits `ms`; false when `signal` aborted first (the process is stopping). */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  return sleep(ms, true, { signal }).catch(() => false);
}
