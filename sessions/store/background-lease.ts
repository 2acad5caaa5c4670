import type { Knex } from "knex";

/**
 * A lease on a job one process of the deployment runs at a time (the sandbox sweeper), in
 * `background_leases`. Taken when free, lapsed or already ours (renewing it); a process
 * killed while holding it stops renewing, and another takes it once it lapses.
 */
export class BackgroundLease {
  constructor(
    private readonly knex: Knex,
    private readonly name: string,
    private readonly ttlMs: number,
  ) {}

  /** True when this owner holds the lease now (taken or renewed). */
  async hold(owner: string): Promise<boolean> {
    const expiry = this.knex.raw("now() + make_interval(secs => ?)", [this.ttlMs / 1000]);
    const rows = await this.knex
      .raw(
        `insert into background_leases (name, owner, expires_at) values (?, ?, ${expiry.toQuery()})
         on conflict (name) do update set owner = excluded.owner, expires_at = excluded.expires_at
         where background_leases.owner = excluded.owner or background_leases.expires_at < now()
         returning owner`,
        [this.name, owner],
      )
      .then((result: { rows: { owner: string }[] }) => result.rows);
    return rows.length === 1;
  }

  async release(owner: string): Promise<void> {
    await this.knex("background_leases").where({ name: this.name, owner }).delete();
  }
}

/** What the sandbox sweeper needs to know of each session a sandbox's label names. */
export interface SessionSandboxState {
  closed: boolean;
  lastActivityAt: Date;
  /** The sandbox id the session's handle names, if any. */
  sandboxId: string | undefined;
  /** A run of the session is queued, waiting for approval or running. */
  active: boolean;
}

/** The sessions among `ids` that exist (ids that are not UUIDs name none). */
export async function sessionSandboxStates(
  knex: Knex,
  ids: readonly string[],
): Promise<Map<string, SessionSandboxState>> {
  const uuids = ids.filter((id) =>
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id),
  );
  const states = new Map<string, SessionSandboxState>();
  if (uuids.length === 0) return states;
  const rows = await knex("sessions as s")
    .select(
      "s.id",
      "s.status",
      "s.last_activity_at",
      "s.runtime_handle",
      knex.raw(
        "exists (select 1 from runs r where r.session_id = s.id and r.status in ('queued', 'needs_approval', 'running')) as active",
      ),
    )
    .whereIn("s.id", uuids);
  for (const row of rows) {
    const handle =
      typeof row.runtime_handle === "string" ? JSON.parse(row.runtime_handle) : row.runtime_handle;
    states.set(row.id, {
      closed: row.status === "closed",
      lastActivityAt: new Date(row.last_activity_at),
      sandboxId: typeof handle?.sandboxId === "string" ? handle.sandboxId : undefined,
      active: row.active === true,
    });
  }
  return states;
}
