import type { Logger } from "pino";
import { isClosingEvent, type RunsService } from "../../sessions/index.js";
import type { ChatReplies } from "./chat-replies.js";
import type { ChatSurface, RunReply, RunReplyTarget } from "./chat-surface.js";

/** How often the replies in hand are renewed (their hold lasts a minute). */
const KEEP_EVERY_MS = 20_000;

/**
 * Follows runs started from a chat and hands their events to the surface's renderer: a sign
 * of life at once, the answer as it grows (at the surface's pace), a run waiting for a
 * place, then the answer with its cost and link or the failure. Replies are recorded
 * (ChatReplies) before the first post and held by this process; one whose process stops
 * mid-run is taken over (here at start, or by any web process), and the surface finishes
 * the same messages from the progress it saved.
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
    },
    private readonly surface: ChatSurface<Target>,
  ) {
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
          await this.finish(runId, reply, text);
          await replies.done(runId);
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

  private async finish(runId: string, reply: RunReply, text: string): Promise<void> {
    const run = await this.deps.runs.runById(runId);
    if (!run) return;
    const link = `${this.deps.publicUrl}/sessions/${run.sessionId}`;
    const answer = run.status === "succeeded" ? (run.output ?? text) : undefined;
    await reply.finish({ run, answer, link });
  }
}
