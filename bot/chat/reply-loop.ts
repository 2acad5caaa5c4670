import type { Logger } from "pino";
import { isClosingEvent, type RunsService } from "../../sessions/index.js";
import type { ChatReplies } from "./chat-replies.js";
import type { ChatSurface, RunReply, RunReplyTarget } from "./chat-surface.js";
import { COST_RECHECKS_MS, costShown, pause, SHOWN_COST } from "./late-cost.js";

/** A reply in hand: its work, how to stop it, and until when its hold surely lasts. */
interface Held {
  work: Promise<void>;
  /** Aborted when the process stops or another process took the reply over. */
  stop: AbortController;
  /** Date.now() before which the hold surely lasts (set from when it was last renewed). */
  heldUntil: number;
}

/** Another process holds the reply now and sends it; this one stops where it is. */
class ReplyTakenOver extends Error {}

/**
 * Follows runs started from a chat and hands their events to the surface's renderer: a sign
 * of life at once, the answer as it grows (at the surface's pace), a run waiting for a
 * place, then the answer with its cost and link or the failure. Replies are recorded
 * (ChatReplies) before the first post and held by this process; one whose process stops
 * mid-run is taken over (here at start, or by any web process), and the surface finishes
 * the same messages from the progress it saved.
 *
 * Holds last `replies.holdMs` (CHAT_REPLY_HOLD_MS, 15 s by default). Every third of it, one
 * statement renews every reply in hand and one takes over those whose holder died, so a
 * reply cut off by a `kill -9` is finished by another web process within about the hold
 * and a third. A process that lost a hold (frozen, or cut off from the database, past it)
 * stops that reply: it learns so from the renewal, from saving its progress, or, before
 * any edit, from its own clock (the hold is not known to last: it asks the database first),
 * so it never edits the message alongside the process that took it over.
 *
 * A run's cost can still grow after it ends: the proxy books its model calls in batches
 * (about every second), so a call that finished as the run closed lands a moment later. The
 * reply stays in hand for a short while after the closing message (COST_RECHECKS_MS), the
 * run's cost is read again, and the closing message is edited when the figure it shows
 * changed (late-cost.ts). A process that stops meanwhile leaves the reply pending with the
 * cost it showed; whoever takes it over reads the cost once more and edits if needed.
 */
export class ChatReplyLoop<Target extends object = object> {
  private readonly inFlight = new Map<string, Held>();
  private stopping = false;
  private keeping = false;
  private resumeFailing = false;
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
    // Renews the hold on replies in hand, and takes over those whose process died: well
    // within the hold, so two renewals in a row may fail or come late and nothing is lost.
    this.keeper = setInterval(() => void this.keep(), this.keepEveryMs);
    this.keeper.unref();
  }

  /** How often holds are renewed and orphans looked for: a third of the hold. */
  get keepEveryMs(): number {
    return Math.max(1, Math.floor(this.deps.replies.holdMs / 3));
  }

  /** Starts replying for a run just started; a run already being replied to is left alone. */
  async start(runId: string, target: RunReplyTarget<Target>): Promise<void> {
    const asked = Date.now();
    if (!(await this.deps.replies.add(this.surface.name, runId, { ...target }))) return;
    this.track(runId, asked, (held) => this.reply(runId, held, target, {}));
  }

  /** Takes over the replies no process holds (one that stopped mid-reply), and finishes them. */
  async resume(): Promise<number> {
    const asked = Date.now();
    const orphaned = await this.deps.replies.takeOrphaned(this.surface.name);
    for (const reply of orphaned) {
      const inHand = this.inFlight.get(reply.runId);
      if (inHand) {
        // Its hold lapsed while this process still sent it, and nobody else took it.
        inHand.heldUntil = asked + this.deps.replies.holdMs;
        continue;
      }
      const target = reply.target as RunReplyTarget<Target>;
      this.track(reply.runId, asked, (held) =>
        this.reply(reply.runId, held, target, reply.progress),
      );
    }
    return orphaned.length;
  }

  /** Stops following runs; the replies in hand are taken over once their hold lapses. */
  async close(): Promise<void> {
    clearInterval(this.keeper);
    this.stopping = true;
    for (const held of this.inFlight.values()) held.stop.abort();
    await Promise.allSettled([...this.inFlight.values()].map((held) => held.work));
    // The next process (or another one now) takes them over at once.
    await this.deps.replies.release().catch(() => undefined);
  }

  private async keep(): Promise<void> {
    // A renewal slower than the interval (a struggling database): one at a time.
    if (this.keeping) return;
    this.keeping = true;
    try {
      await this.renew();
      await this.resume().then(
        () => {
          this.resumeFailing = false;
        },
        (error: unknown) => {
          // Said once per outage: the database being away is logged where it is noticed.
          if (!this.resumeFailing) {
            this.deps.logger.warn({ err: error }, "could not look for chat replies to take over");
          }
          this.resumeFailing = true;
        },
      );
    } finally {
      this.keeping = false;
    }
  }

  /** Renews every reply in hand at once; stops those another process took over. */
  private async renew(): Promise<void> {
    const inHand = [...this.inFlight.keys()];
    if (inHand.length === 0) return;
    const asked = Date.now();
    let held: Set<string>;
    try {
      held = new Set(await this.deps.replies.renew(inHand));
    } catch (error) {
      this.deps.logger.warn(
        { err: error, replies: inHand.length, surface: this.surface.name },
        "could not renew the hold on chat replies in hand; they pause once it may have lapsed",
      );
      return;
    }
    for (const runId of inHand) {
      const reply = this.inFlight.get(runId);
      if (!reply) continue;
      if (held.has(runId)) reply.heldUntil = asked + this.deps.replies.holdMs;
      else this.lose(runId, reply);
    }
  }

  private lose(runId: string, reply: Held): void {
    if (reply.stop.signal.aborted) return;
    reply.stop.abort();
    this.deps.logger.warn(
      { run_id: runId, surface: this.surface.name },
      "another web process took this chat reply over (this one's hold lapsed); stopped sending it here",
    );
  }

  /**
   * Before an edit: the hold surely lasts, or the database says it is still this
   * process's (one statement, only after renewals failed or came late); otherwise the
   * reply stops here. Throws when stopping or taken over.
   */
  private async stillHeld(runId: string, reply: Held): Promise<void> {
    if (!reply.stop.signal.aborted && Date.now() >= reply.heldUntil) {
      const asked = Date.now();
      const [held] = await this.deps.replies.renew([runId]);
      if (held) reply.heldUntil = asked + this.deps.replies.holdMs;
      else this.lose(runId, reply);
    }
    if (reply.stop.signal.aborted) throw new ReplyTakenOver();
  }

  private track(runId: string, asked: number, send: (held: Held) => Promise<void>): void {
    const held: Held = {
      work: Promise.resolve(),
      stop: new AbortController(),
      heldUntil: asked + this.deps.replies.holdMs,
    };
    if (this.stopping) held.stop.abort();
    this.inFlight.set(runId, held);
    held.work = send(held).finally(() => {
      if (this.inFlight.get(runId) === held) this.inFlight.delete(runId);
    });
  }

  private async reply(
    runId: string,
    held: Held,
    target: RunReplyTarget<Target>,
    saved: Record<string, unknown>,
  ): Promise<void> {
    const { replies, runs } = this.deps;
    const progress = { ...saved };
    const save = async () => {
      if (!(await replies.saveProgress(runId, { ...progress }))) {
        this.lose(runId, held);
        throw new ReplyTakenOver();
      }
    };
    const edit = () => this.stillHeld(runId, held);
    try {
      const reply = this.surface.openReply(target, progress, save);
      if (progress[SHOWN_COST] !== undefined) {
        // Closed before a restart: only its cost is left to check, once (it had time to land).
        await this.settle(runId, held, reply, progress, save, "", [0]);
        return;
      }
      if (reply.fresh) {
        await edit();
        await reply.begin();
        await save();
      }
      let text = "";
      let lastShown = 0;
      let waiting = false;
      for await (const event of runs.follow(runId, 0, held.stop.signal)) {
        if (event.type === "message.delta") {
          text += String(event.data.text ?? "");
          if (Date.now() - lastShown >= reply.pace) {
            await edit();
            await reply.show(text);
            lastShown = Date.now();
          }
        } else if (event.type === "message") {
          text = String(event.data.text ?? text);
        } else if (isClosingEvent(event)) {
          await edit();
          const shown = await this.finish(runId, reply, text);
          const rechecks = this.deps.costRechecksMs ?? COST_RECHECKS_MS;
          if (shown === undefined || rechecks.length === 0) {
            await replies.done(runId);
            return;
          }
          progress[SHOWN_COST] = shown;
          await save();
          await this.settle(runId, held, reply, progress, save, text, rechecks);
          return;
        } else if (event.type === "run.status" && !text) {
          const status = event.data.status;
          await edit();
          if (status === "waiting") await reply.waiting(String(event.data.message ?? ""));
          else if (status === "running" && waiting) await reply.running();
          waiting = status === "waiting" || (waiting && status !== "running");
        }
      }
    } catch (error) {
      // Taken over: the process holding it now sends it (lose() said so once).
      if (error instanceof ReplyTakenOver) return;
      await this.failed(runId, error);
    }
  }

  /**
   * A reply that failed stays pending, held until its hold lapses; then this or another
   * process takes it over and tries again, up to REPLY_ATTEMPTS_MAX times in all. The
   * answer is on the site whatever happens here.
   */
  private async failed(runId: string, error: unknown): Promise<void> {
    const counted = await this.deps.replies.failed(runId).catch(() => undefined);
    const where = {
      err: error,
      run_id: runId,
      surface: this.surface.name,
      failures: counted?.failures,
    };
    if (counted?.givenUp)
      this.deps.logger.error(where, "gave up replying in the chat; the answer is on the site");
    else this.deps.logger.warn(where, "could not reply in the chat; another attempt follows");
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
   * figure either way); stopping (or losing the hold) leaves the reply pending for the next
   * process.
   */
  private async settle(
    runId: string,
    held: Held,
    reply: RunReply,
    progress: Record<string, unknown>,
    save: () => Promise<void>,
    text: string,
    rechecksMs: readonly number[],
  ): Promise<void> {
    let waited = 0;
    for (const at of rechecksMs) {
      if (!(await pause(at - waited, held.stop.signal))) return;
      waited = at;
      const outcome = await this.outcome(runId, text);
      if (!outcome) break;
      const shown = Number(progress[SHOWN_COST] ?? 0);
      if (costShown(outcome.run.costUsd) === costShown(shown)) continue;
      await this.stillHeld(runId, held);
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
