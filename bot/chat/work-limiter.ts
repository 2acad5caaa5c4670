/**
 * Runs at most `limit` pieces of work at once; the rest wait their turn in order. A burst
 * of chat messages then leaves the event loop free to acknowledge each delivery at once
 * (Slack wants an answer within 3 s), instead of every handler's queries competing with it.
 *
 * The order is the order places in line were taken (`place()`), not the order work was
 * handed over: a chat message takes its place as it arrives, does its cheap first steps
 * (claiming the delivery, a sign of life), and then its slow part starts after that of
 * every message that came before it, whichever finished its first steps sooner. A place
 * must be used (`run`) or given up (`leave`): until then, the places behind it wait.
 */
export class WorkLimiter {
  private active = 0;
  /** Places taken and not yet started, in the order they were taken. */
  private readonly line: Slot[] = [];

  constructor(private readonly limit: number) {}

  /** A place in line, taken now, for work handed over later (or given up). */
  place(): Place {
    const slot: Slot = { left: false };
    this.line.push(slot);
    return {
      run: (work) => this.runAt(slot, work),
      leave: () => {
        slot.left = true;
        this.pump();
      },
    };
  }

  /** Runs `work` once the places before it have started and fewer than `limit` run. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.place().run(work);
  }

  private runAt<T>(slot: Slot, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Called by pump in line order, so work starts in that order, not a microtask apart.
      slot.start = () => {
        let running: Promise<T>;
        try {
          running = work();
        } catch (error) {
          running = Promise.reject(error);
        }
        running
          .finally(() => {
            this.active -= 1;
            this.pump();
          })
          .then(resolve, reject);
      };
      this.pump();
    });
  }

  /** Starts what may start: the head of the line, while there is room. */
  private pump(): void {
    for (;;) {
      const head = this.line[0];
      if (!head) return;
      if (head.left) {
        this.line.shift();
        continue;
      }
      if (!head.start || this.active >= this.limit) return;
      this.line.shift();
      this.active += 1;
      head.start();
    }
  }
}

/** A place in a WorkLimiter's line. */
export interface Place {
  /** Runs `work` in this place's turn. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Gives the place up (nothing to run): those behind it move on. Harmless once run. */
  leave(): void;
}

interface Slot {
  left: boolean;
  start?: () => void;
}
