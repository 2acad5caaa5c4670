import { FINISHED_STATUSES, isClosingEvent, type RunEvent } from "./records.js";
import type { RunSignals } from "./signals/run-signals.js";
import type { RunStore } from "./store/run-store.js";

/**
 * The run's events after `afterSeq`, then new ones as they come, until the run finishes.
 * A signal wakes the reader when events are added; reading again on a timer is only the
 * fallback for a signal lost (Redis restarting), so that timer backs off while the run
 * is quiet: hundreds of Slack replies waiting on queued runs would otherwise read the
 * database twice a second each.
 */
export async function* followRun(
  runs: RunStore,
  signals: RunSignals,
  runId: string,
  afterSeq: number,
  signal: AbortSignal,
): AsyncIterable<RunEvent> {
  let seq = afterSeq;
  let quietReads = 0;
  while (!signal.aborted) {
    const wake = nextWake(signals, runId, signal, fallbackPollMs(quietReads));
    const events = await runs.events(runId, seq);
    for (const event of events) {
      yield event;
      seq = event.seq;
      if (isClosingEvent(event)) {
        wake.cancel();
        return;
      }
    }
    if (events.length > 0) {
      quietReads = 0;
      wake.cancel();
      continue;
    }
    // Once: a run that had already finished sends no closing event after afterSeq.
    if (quietReads === 0) {
      const run = await runs.get(runId);
      if (!run || FINISHED_STATUSES.has(run.status)) {
        wake.cancel();
        if ((await runs.events(runId, seq)).length === 0) return;
        continue;
      }
    }
    quietReads += 1;
    await wake.promise;
  }
}

/** Resolves on the next "new events" signal for the run, after `pollMs`, or on abort. */
function nextWake(
  signals: RunSignals,
  runId: string,
  signal: AbortSignal,
  pollMs: number,
): { promise: Promise<void>; cancel(): void } {
  let done: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    done = resolve;
  });
  const unsubscribe = signals.onEvents(runId, () => finish());
  const timer = setTimeout(() => finish(), pollMs);
  const onAbort = () => finish();
  signal.addEventListener("abort", onAbort, { once: true });
  function finish() {
    unsubscribe();
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    done();
  }
  return { promise, cancel: finish };
}

/** 1 s after events, doubling while the run stays quiet, up to 8 s. */
function fallbackPollMs(quietReads: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, quietReads - 1), 8_000);
}
