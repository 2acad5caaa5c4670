import { setMaxListeners } from "node:events";
import type { Logger } from "pino";
import { isClosingEvent, type RunsService } from "../../sessions/index.js";
import type { ChatReplies } from "./chat-replies.js";
import type { ChatSurface, RunReply, RunReplyTarget } from "./chat-surface.js";
import { COST_RECHECKS_MS, costShown, pause, SHOWN_COST } from "./late-cost.js";

/** How often the replies in hand are renewed (their hold lasts a minute). */
const KEEP_EVERY_MS = 20_000;

/**
 * Follows runs started from a chat and hands their events to the surface's renderer: a sign
 * of life at once, the answer as it grows (at the surface's pace), a run waiting for a
 * place, then the answer with its cost and link or the failure. Replies are recorded
 * (ChatReplies) before the first post and held by this process; one whose process stops
 * mid-run is taken over (here at start, or by any web process), and the surface finishes
 * the same messages from the progress it saved.
 *
 * A run's cost can still grow after it ends: the proxy books its model calls in batches
 * (about every second), so a call that finished as the run closed lands a moment later. The
 * reply stays in hand for a short while after the closing message (COST_RECHECKS_MS), the
 * run's cost is read again, and the closing message is edited when the figure it shows
 * changed (late-cost.ts). A process that stops meanwhile leaves the reply pending with the
 * cost it showed; whoever takes it over reads the cost once more and edits if needed.
 */
export class ChatReplyLoop<Target extends object = object> {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly keeper: NodeJS.Timeout;

  constructor(
    private readonly deps: {
      runs: RunsService;
      replies: ChatReplies;
      publicUrl: string;
      logger: Logger;
      /** When the cost is read again after the closing message, in ms after it (tests: shorter). */
      costRechecksMs?: readonly number[] | undefined;
    },
    private readonly surface: ChatSurface<Target>,
  ) {
    // Every reply in hand follows its run with this signal: a burst has hundreds at once.
    setMaxListeners(0, this.stopping.signal);
    // Renews the hold on replies in hand, and takes over those whose process died.
    this.keeper = setInterval(() => void this.keep(), KEEP_EVERY_MS);
    this.keeper.unref();
  }

  /** Starts replying for a run just started; a run already being replied to is left alone. */
  async start(runId: string, target: RunReplyTarget<Target>): Promise<void> {
    if (!(await this.deps.replies.add(this.surface.name, runId, { ...target }))) return;
    this.track(runId, this.reply(runId, target, {}));
  }

  /** Takes over the replies no process holds (one that stopped mid-reply), and finishes them. */
  async resume(): Promise<number> {
    const orphaned = await this.deps.replies.takeOrphaned(this.surface.name);
    for (const reply of orphaned) {
      if (this.inFlight.has(reply.runId)) continue;
      const target = reply.target as RunReplyTarget<Target>;
      this.track(reply.runId, this.reply(reply.runId, target, reply.progress));
    }
    return orphaned.length;
  }

  /** Stops following runs; the replies in hand are taken over once their hold lapses. */
  async close(): Promise<void> {
    clearInterval(this.keeper);
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight.values()]);
    // The next process (or another one now) takes them over at once.
    await this.deps.replies.release().catch(() => undefined);
  }

  private async keep(): Promise<void> {
    try {
      await this.deps.replies.renew([...this.inFlight.keys()]);
      await this.resume();
    } catch (error) {
      this.deps.logger.warn({ err: error }, "could not renew or resume chat replies");
    }
  }

  private track(runId: string, work: Promise<void>): void {
    this.inFlight.set(runId, work);
    void work.finally(() => this.inFlight.delete(runId));
  }

  private async reply(
    runId: string,
    target: RunReplyTarget<Target>,
    saved: Record<string, unknown>,
  ): Promise<void> {
    const { replies, runs } = this.deps;
    const progress = { ...saved };
    const save = () => replies.saveProgress(runId, { ...progress });
    try {
      const reply = this.surface.openReply(target, progress, save);
      if (progress[SHOWN_COST] !== undefined) {
        // Closed before a restart: only its cost is left to check, once (it had time to land).
        await this.settle(runId, reply, progress, save, "", [0]);
        return;
      }
      if (reply.fresh) {
        await reply.begin();
        await save();
      }
      let text = "";
      let lastShown = 0;
      let waiting = false;
      for await (const event of runs.follow(runId, 0, this.stopping.signal)) {
        if (event.type === "message.delta") {
          text += String(event.data.text ?? "");
          if (Date.now() - lastShown >= reply.pace) {
            await reply.show(text);
            lastShown = Date.now();
          }
        } else if (event.type === "message") {
          text = String(event.data.text ?? text);
        } else if (isClosingEvent(event)) {
          const shown = await this.finish(runId, reply, text);
          const rechecks = this.deps.costRechecksMs ?? COST_RECHECKS_MS;
          if (shown === undefined || rechecks.length === 0) {
            await replies.done(runId);
            return;
          }
          progress[SHOWN_COST] = shown;
          await save();
          await this.settle(runId, reply, progress, save, text, rechecks);
          return;
        } else if (event.type === "run.status" && !text) {
          const status = event.data.status;
          if (status === "waiting") await reply.waiting(String(event.data.message ?? ""));
          else if (status === "running" && waiting) await reply.running();
          waiting = status === "waiting" || (waiting && status !== "running");
        }
      }
    } catch (error) {
      // The reply stays pending: the next start (or the run's next event here) resumes it.
      this.deps.logger.warn(
        { err: error, run_id: runId, surface: this.surface.name },
        "could not reply in the chat; will resume after a restart",
      );
    }
  }

  /** Shows the closing message; answers the cost it showed (undefined: the run is gone). */
  private async finish(runId: string, reply: RunReply, text: string): Promise<number | undefined> {
    const outcome = await this.outcome(runId, text);
    if (!outcome) return undefined;
    await reply.finish(outcome);
    return outcome.run.costUsd;
  }

  private async outcome(runId: string, text: string) {
    const run = await this.deps.runs.runById(runId);
    if (!run) return undefined;
    const link = `${this.deps.publicUrl}/sessions/${run.sessionId}`;
    const answer = run.status === "succeeded" ? (run.output ?? text) : undefined;
    return { run, answer, link };
  }

  /**
   * Reads the run's cost again after each pause, and edits the closing message when the
   * figure shown changed; then the reply is done. Bounded: a few reads of one row per run.
   * A failed edit is logged and tried again at the next read (the run's record has the
   * figure either way); stopping leaves the reply pending for the next process.
   */
  private async settle(
    runId: string,
    reply: RunReply,
    progress: Record<string, unknown>,
    save: () => Promise<void>,
    text: string,
    rechecksMs: readonly number[],
  ): Promise<void> {
    let waited = 0;
    for (const at of rechecksMs) {
      if (!(await pause(at - waited, this.stopping.signal))) return;
      waited = at;
      const outcome = await this.outcome(runId, text);
      if (!outcome) break;
      const shown = Number(progress[SHOWN_COST] ?? 0);
      if (costShown(outcome.run.costUsd) === costShown(shown)) continue;
      try {
        await reply.recost(outcome);
      } catch (error) {
        // The run keeps the right figure (the API and the site show it); a later check, if
        // one is left, edits the message again.
        this.deps.logger.warn(
          { err: error, run_id: runId, surface: this.surface.name },
          "could not edit the chat reply's cost; a later check tries again",
        );
        continue;
      }
      progress[SHOWN_COST] = outcome.run.costUsd;
      await save();
    }
    await this.deps.replies.done(runId);
  }
}
