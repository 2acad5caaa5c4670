import type { Knex } from "knex";

/**
 * One worker at a time drains a session: it holds the session's lease, renews it while it
 * works, and releases it when the session has nothing left to run. A worker that dies
 * (kill -9) stops renewing; once the lease has lapsed, any worker may take the session,
 * and finds the dead worker's run still `running`, to try again.
 */
export class SessionLeases {
  constructor(
    private readonly knex: Knex,
    private readonly ttlMs: number,
  ) {}

  private expiry() {
    return this.knex.raw("now() + make_interval(secs => ?)", [this.ttlMs / 1000]);
  }

  /**
   * Takes the session when it is free or lapsed. Not when it is already ours: a second
   * drain job in the same process must leave it to the drain in progress.
   */
  async acquire(sessionId: string, owner: string): Promise<boolean> {
    const updated = await this.knex("sessions")
      .where({ id: sessionId })
      .andWhere((q) =>
        q.whereNull("lease_owner").orWhere("lease_expires_at", "<", this.knex.fn.now()),
      )
      .update({ lease_owner: owner, lease_expires_at: this.expiry() });
    return updated === 1;
  }

  /** Extends our lease; false when it is no longer ours (we stalled past it and another took over). */
  async renew(sessionId: string, owner: string): Promise<boolean> {
    const updated = await this.knex("sessions")
      .where({ id: sessionId, lease_owner: owner })
      .update({ lease_expires_at: this.expiry() });
    return updated === 1;
  }

  async release(sessionId: string, owner: string, trx: Knex = this.knex): Promise<void> {
    await trx("sessions")
      .where({ id: sessionId, lease_owner: owner })
      .update({ lease_owner: null, lease_expires_at: null });
  }

  /**
   * Frees every lease: for the embedded database, which one process owns (a pid lock keeps
   * others off), so any lease it finds on start was its own before a crash.
   */
  async releaseAll(): Promise<number> {
    return this.knex("sessions")
      .whereNotNull("lease_owner")
      .update({ lease_owner: null, lease_expires_at: null });
  }

  /**
   * Sessions with unfinished runs that nobody holds: their worker died, or their queue
   * message was lost (not those whose next run waits for a place). Only runs asked for
   * more than `settleMs` ago count, so a run whose job is on its way is not raced.
   */
  async orphaned(settleMs: number, limit = 500): Promise<string[]> {
    const rows = await this.knex("runs as r")
      .distinct("r.session_id")
      .join("sessions as s", "s.id", "r.session_id")
      .whereIn("r.status", ["queued", "running"])
      .andWhere(
        "r.created_at",
        "<",
        this.knex.raw("now() - make_interval(secs => ?)", [settleMs / 1000]),
      )
      .andWhere((q) =>
        q.whereNull("s.lease_owner").orWhere("s.lease_expires_at", "<", this.knex.fn.now()),
      )
      // A run waiting for a place is woken when one frees (RunSlots), not swept.
      .whereNotExists((q) =>
        q
          .select(this.knex.raw("1"))
          .from("runs as w")
          .whereRaw("w.session_id = r.session_id")
          .andWhere("w.status", "queued")
          .whereNotNull("w.waiting_since"),
      )
      .limit(limit);
    return rows.map((row) => row.session_id as string);
  }
}
