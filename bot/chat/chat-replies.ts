import type { Knex } from "knex";

/** How long a reply is held without renewal unless set (CHAT_REPLY_HOLD_MS's default). */
export const DEFAULT_HOLD_MS = 15_000;

/**
 * How many failed attempts a reply gets before it is given up. Each is taken over again
 * once its hold lapses, so at the default hold a chat that keeps refusing (a deleted
 * channel, the app uninstalled) is tried for about ten minutes; an outage of the chat
 * shorter than that loses no answer.
 */
export const REPLY_ATTEMPTS_MAX = 40;

/** A run's answer on its way to a chat: where it goes and how far it got. */
export interface PendingReply {
  runId: string;
  surface: string;
  target: Record<string, unknown>;
  progress: Record<string, unknown>;
}

/**
 * Replies in flight, kept in the database so a web process that stops mid-reply (deploy,
 * crash) does not lose them: its hold lapses and a web process takes them over, rebuilding
 * the reply from the run's stored events.
 *
 * A hold lasts `holdMs` (CHAT_REPLY_HOLD_MS) from its last renewal. Only the holder writes a
 * reply's progress or marks it done, so a process that lost a hold (frozen past it, cut off
 * from the database) cannot overwrite what the new holder saved.
 */
export class ChatReplies {
  constructor(
    private readonly knex: Knex,
    /** This process, as the holder of the replies it is sending. */
    private readonly owner: string,
    readonly holdMs = DEFAULT_HOLD_MS,
  ) {}

  private expiry() {
    return this.knex.raw("now() + make_interval(secs => ?)", [this.holdMs / 1000]);
  }

  /** Records a reply to send, held by this process; false when the run already has one. */
  async add(surface: string, runId: string, target: Record<string, unknown>): Promise<boolean> {
    const inserted = await this.knex("chat_replies")
      .insert({
        run_id: runId,
        surface,
        target: JSON.stringify(target),
        owner: this.owner,
        lease_expires_at: this.expiry(),
      })
      .onConflict("run_id")
      .ignore()
      .returning(["run_id"]);
    return inserted.length === 1;
  }

  /**
   * Keeps this process's hold on the replies it is sending (call well within the hold), in
   * one statement however many there are. Answers those still held; any other was taken
   * over by another process (this one's hold lapsed), which now sends it. A done reply
   * counts as held: it was finished here.
   */
  async renew(runIds: readonly string[]): Promise<string[]> {
    if (runIds.length === 0) return [];
    const rows: { run_id: string }[] = await this.knex("chat_replies")
      .whereIn("run_id", runIds)
      .andWhere({ owner: this.owner })
      .update({ lease_expires_at: this.expiry() })
      .returning(["run_id"]);
    return rows.map((row) => row.run_id);
  }

  /** Where a run's reply goes on this surface (a RunReplyTarget), if it has one. */
  async targetOf(surface: string, runId: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.knex("chat_replies").where({ run_id: runId, surface }).first("target");
    return row?.target as Record<string, unknown> | undefined;
  }

  /** Saves how far the reply got; false (nothing saved) when another process holds it now. */
  async saveProgress(runId: string, progress: Record<string, unknown>): Promise<boolean> {
    const saved = await this.knex("chat_replies")
      .where({ run_id: runId, owner: this.owner })
      .update({ progress: JSON.stringify(progress), updated_at: this.knex.fn.now() });
    return saved === 1;
  }

  /** The reply is finished; false (left as it is) when another process holds it now. */
  async done(runId: string): Promise<boolean> {
    const finished = await this.knex("chat_replies")
      .where({ run_id: runId, owner: this.owner })
      .update({ state: "done", updated_at: this.knex.fn.now() });
    return finished === 1;
  }

  /**
   * Counts a failed attempt at a reply this process holds; the last one allowed
   * (REPLY_ATTEMPTS_MAX) marks it `failed`, and no process takes it over again. Answers how
   * many attempts failed and whether it was given up (none when another process holds it).
   */
  async failed(runId: string): Promise<{ failures: number; givenUp: boolean } | undefined> {
    const [row] = (await this.knex("chat_replies")
      .where({ run_id: runId, owner: this.owner, state: "pending" })
      .update({
        failures: this.knex.raw("failures + 1"),
        state: this.knex.raw("case when failures + 1 >= ? then 'failed' else state end", [
          REPLY_ATTEMPTS_MAX,
        ]),
        updated_at: this.knex.fn.now(),
      })
      .returning(["failures", "state"])) as { failures: number; state: string }[];
    return row && { failures: row.failures, givenUp: row.state === "failed" };
  }

  /**
   * Lets go of this process's pending replies (it is stopping), or with `everyone`, of all
   * of them (the embedded database's one process starting: any hold it finds was its own),
   * or of all of one surface's (each surface takes over its own).
   */
  async release(options: { everyone?: boolean; surface?: string } = {}): Promise<void> {
    const query = this.knex("chat_replies").where({ state: "pending" });
    if (!options.everyone) query.andWhere({ owner: this.owner });
    if (options.surface) query.andWhere({ surface: options.surface });
    await query.update({ owner: null, lease_expires_at: null });
  }

  /**
   * Takes over pending replies nobody holds (their process stopped or died): each is
   * claimed by one process only, so two web processes starting at once do not both reply.
   */
  async takeOrphaned(surface: string, limit = 200): Promise<PendingReply[]> {
    const { rows } = await this.knex.raw(
      `update chat_replies set owner = ?, lease_expires_at = now() + make_interval(secs => ?)
        where run_id in (
          select run_id from chat_replies
           where surface = ? and state = 'pending'
             and (lease_expires_at is null or lease_expires_at < now())
           order by created_at limit ? for update skip locked)
        returning run_id, surface, target, progress`,
      [this.owner, this.holdMs / 1000, surface, limit],
    );
    return (rows as Record<string, unknown>[]).map((row) => ({
      runId: row.run_id as string,
      surface: row.surface as string,
      target: row.target as Record<string, unknown>,
      progress: row.progress as Record<string, unknown>,
    }));
  }
}
