import type { RunEventType } from "../records.js";
import type { RunSignals } from "../signals/run-signals.js";
import type { NewRunEvent, RunStore } from "../store/run-store.js";

/**
 * The one writer of a run's timeline during an attempt. Events get consecutive seqs and
 * are written in small batches (a streamed answer is hundreds of deltas), at most
 * `flushMs` apart; readers are woken after each batch. A batch that collides on seq means
 * another worker has taken the run over: `onFenced` is told and nothing more is written.
 */
export class EventWriter {
  private pending: NewRunEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private fenced = false;

  constructor(
    private readonly runs: RunStore,
    private readonly signals: RunSignals,
    private readonly runId: string,
    private seq: number,
    private readonly onFenced: (error: unknown) => void,
    private readonly flushMs = 25,
  ) {}

  add(type: RunEventType, data: Record<string, unknown>): void {
    if (this.fenced) return;
    this.pending.push({ seq: ++this.seq, type, data });
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.flushMs);
  }

  /**
   * Hands back what is not written yet (for the closing transaction), with seqs assigned,
   * once the batches already sent are written: a closing event committed before them would
   * end a follower's stream with those events unseen.
   */
  async take(
    extra: { type: RunEventType; data: Record<string, unknown> }[] = [],
  ): Promise<NewRunEvent[]> {
    this.cancelTimer();
    for (const event of extra) this.pending.push({ seq: ++this.seq, ...event });
    const events = this.pending;
    this.pending = [];
    await this.writing;
    return events;
  }

  /** Writes what is pending; resolves once every earlier batch is written too. */
  flush(): Promise<void> {
    this.cancelTimer();
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0 && !this.fenced) {
      this.writing = this.writing.then(async () => {
        if (this.fenced) return;
        try {
          await this.runs.appendEvents(this.runId, batch);
          this.signals.eventsAdded(this.runId);
        } catch (error) {
          this.fenced = true;
          this.onFenced(error);
        }
      });
    }
    return this.writing;
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
