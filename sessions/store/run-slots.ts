import type { Knex } from "knex";
import type { Run } from "../records.js";
import type { RunStore } from "./run-store.js";
import type { SessionLeases } from "./session-leases.js";

/** How many runs may be in progress (`running`) at once, counted across every worker. */
export interface RunLimits {
  /** Per person (RUN_MAX_PER_USER): one person cannot take every worker's slots. */
  perUser: number;
  /** Per agent (RUN_MAX_PER_AGENT): one agent cannot either, nor be flooded itself. */
  perAgent: number;
}

/**
 * Why a run waits: its person or its agent has as many runs in progress as allowed, or it
 * could start but a run that ranks before it waits for the same place.
 */
export type WaitReason = "person_limit" | "agent_limit" | "own_runs_first" | "others_first";

export interface RunWait {
  reason: WaitReason;
  /** The sessions of the waiting runs that go first (to wake), for the last two reasons. */
  aheadSessionIds?: string[];
}

export type SlotClaim =
  | { outcome: "started"; waited: boolean }
  /** `announced`: a `waiting` event was added (the first wait, or a new reason). */
  | { outcome: "waiting"; wait: RunWait; announced: boolean }
  /** Cancelled meanwhile, or another worker's attempt: nothing to do. */
  | { outcome: "gone" };

/** A waiting run that could start now, with its person's and agent's runs in progress. */
interface Candidate {
  runId: string;
  sessionId: string;
  userId: string;
  agentId: string;
  seq: number;
  userRunning: number;
  agentRunning: number;
}

/** Advisory lock spaces: person first, then agent, always, so two claims never deadlock. */
const PERSON_LOCK = "switchboard:run-slots:person";
const AGENT_LOCK = "switchboard:run-slots:agent";

/**
 * Places for runs in progress. A worker claims one before a queued run starts: under a lock
 * per person and per agent it counts their running runs (so two workers cannot both take
 * the last place) and starts the run only when both are under their limit and no waiting
 * run ranks before it. Otherwise the run is marked waiting, told why in its timeline, and
 * its worker gives its slot back; a freed place wakes the waiting runs that now fit.
 *
 * Fairness: among waiting runs that fit, the person with the fewest runs in progress goes
 * first, then the run asked for earliest, so one person's twenty queued runs do not go
 * ahead of another person's one.
 */
export class RunSlots {
  constructor(
    private readonly knex: Knex,
    private readonly runs: RunStore,
    private readonly leases: SessionLeases,
    readonly limits: RunLimits,
  ) {}

  /**
   * Starts attempt `attempt` of a queued run if it may start now; otherwise marks it
   * waiting and, the first time or when the reason changes, adds a `waiting` event with
   * the words `tell` gives.
   */
  async claim(
    run: Run,
    attempt: number,
    workerId: string,
    tell: (wait: RunWait) => string,
  ): Promise<SlotClaim> {
    return this.knex.transaction(async (trx) => {
      await lock(trx, PERSON_LOCK, run.userId);
      await lock(trx, AGENT_LOCK, run.agentId);
      const row = await trx("runs")
        .select("status", "attempt", "enqueued_seq", "waiting_since", "waiting_reason")
        .where({ id: run.id })
        .forUpdate()
        .first();
      if (row?.status !== "queued" || row.attempt !== attempt - 1) return { outcome: "gone" };
      const wait = await this.waitFor(trx, run, Number(row.enqueued_seq));
      if (!wait) {
        const started = await this.runs.startAttempt(run.id, attempt, workerId, trx);
        return started
          ? { outcome: "started", waited: row.waiting_since !== null }
          : { outcome: "gone" };
      }
      await trx("runs")
        .where({ id: run.id })
        .update({
          waiting_since: trx.raw("coalesce(waiting_since, now())"),
          waiting_reason: wait.reason,
        });
      // Released with the same commit: a place freed right after finds the session free.
      await this.leases.release(run.sessionId, workerId, trx);
      const announced = row.waiting_reason !== wait.reason;
      if (announced) {
        const seq = (await this.runs.lastSeq(run.id, trx)) + 1;
        const data = { status: "waiting", reason: wait.reason, message: tell(wait) };
        await this.runs.appendEvents(run.id, [{ seq, type: "run.status", data }], trx);
      }
      return { outcome: "waiting", wait, announced };
    });
  }

  /** Why the run must wait, if it must; called holding its person's and agent's locks. */
  private async waitFor(trx: Knex, run: Run, seq: number): Promise<RunWait | undefined> {
    const counts = await trx.raw(
      `select (select count(*) from runs where user_id = ? and status = 'running')::int as user_running,
              (select count(*) from runs where agent_id = ? and status = 'running')::int as agent_running`,
      [run.userId, run.agentId],
    );
    const { user_running: userRunning, agent_running: agentRunning } = counts.rows[0];
    const personRoom = this.limits.perUser - userRunning;
    const agentRoom = this.limits.perAgent - agentRunning;
    if (personRoom <= 0) return { reason: "person_limit" };
    if (agentRoom <= 0) return { reason: "agent_limit" };
    // Waiting runs that want the same places and rank first take them first, even when
    // their session is being drained right now (their claim is next for these locks).
    // This run starts only if places are left after them.
    const candidates = await this.candidates(trx, {
      userId: run.userId,
      agentId: run.agentId,
      exceptRunId: run.id,
      includeLeased: true,
      max: personRoom + agentRoom,
    });
    const ahead = candidates.filter((c) => ranksBefore(c, { userRunning, seq }));
    const personAhead = ahead.filter((c) => c.userId === run.userId);
    const agentAhead = ahead.filter((c) => c.agentId === run.agentId);
    if (personAhead.length >= personRoom) {
      return { reason: "own_runs_first", aheadSessionIds: sessionsOf(personAhead, personRoom) };
    }
    if (agentAhead.length >= agentRoom) {
      return { reason: "others_first", aheadSessionIds: sessionsOf(agentAhead, agentRoom) };
    }
    return undefined;
  }

  /**
   * Sessions whose waiting run fits now, best first and no more than the places free:
   * those of the person and agent whose run just ended (`scope`), or any (the sweeper).
   */
  async wakeable(
    scope: { userId: string; agentId: string } | undefined,
    max = 200,
  ): Promise<string[]> {
    const candidates = scope
      ? // Under the claims' locks: a claim that saw the place still taken has committed
        // its wait before this looks, so it is found here.
        await this.knex.transaction(async (trx) => {
          await lock(trx, PERSON_LOCK, scope.userId);
          await lock(trx, AGENT_LOCK, scope.agentId);
          return this.candidates(trx, { ...scope, max });
        })
      : await this.candidates(this.knex, { max });
    const personRoom = new Map<string, number>();
    const agentRoom = new Map<string, number>();
    const sessions: string[] = [];
    for (const c of candidates) {
      const person = personRoom.get(c.userId) ?? this.limits.perUser - c.userRunning;
      const agent = agentRoom.get(c.agentId) ?? this.limits.perAgent - c.agentRunning;
      const fits = person > 0 && agent > 0;
      if (fits) sessions.push(c.sessionId);
      personRoom.set(c.userId, fits ? person - 1 : person);
      agentRoom.set(c.agentId, fits ? agent - 1 : agent);
    }
    return sessions;
  }

  /**
   * Waiting runs whose person and agent are both under their limits, in the fair order.
   * With a person and agent, only runs of either (those a place of theirs would fit).
   */
  private async candidates(
    db: Knex,
    options: {
      userId?: string;
      agentId?: string;
      exceptRunId?: string;
      includeLeased?: boolean;
      max: number;
    },
  ): Promise<Candidate[]> {
    const where: string[] = [];
    const bindings: (string | number)[] = [];
    if (options.userId && options.agentId) {
      where.push("(r.user_id = ? or r.agent_id = ?)");
      bindings.push(options.userId, options.agentId);
    }
    if (options.exceptRunId) {
      where.push("r.id <> ?");
      bindings.push(options.exceptRunId);
    }
    if (!options.includeLeased) {
      where.push(
        "exists (select 1 from sessions s where s.id = r.session_id and (s.lease_owner is null or s.lease_expires_at < now()))",
      );
    }
    const result = await db.raw(
      `select * from (
         select r.id, r.session_id, r.user_id, r.agent_id, r.enqueued_seq,
                (select count(*) from runs x where x.user_id = r.user_id and x.status = 'running')::int as user_running,
                (select count(*) from runs x where x.agent_id = r.agent_id and x.status = 'running')::int as agent_running
           from runs r
          where r.status = 'queued' and r.waiting_since is not null
                ${where.map((clause) => `and ${clause}`).join(" ")}
       ) c
       where c.user_running < ? and c.agent_running < ?
       order by c.user_running, c.enqueued_seq
       limit ?`,
      [...bindings, this.limits.perUser, this.limits.perAgent, options.max],
    );
    return result.rows.map((row: Record<string, unknown>) => ({
      runId: row.id as string,
      sessionId: row.session_id as string,
      userId: row.user_id as string,
      agentId: row.agent_id as string,
      seq: Number(row.enqueued_seq),
      userRunning: row.user_running as number,
      agentRunning: row.agent_running as number,
    }));
  }
}

function sessionsOf(candidates: Candidate[], count: number): string[] {
  return candidates.slice(0, count).map((c) => c.sessionId);
}

/** Fewer runs of its person in progress first, then the run asked for earlier. */
function ranksBefore(
  candidate: Pick<Candidate, "userRunning" | "seq">,
  run: { userRunning: number; seq: number },
): boolean {
  if (candidate.userRunning !== run.userRunning) return candidate.userRunning < run.userRunning;
  return candidate.seq < run.seq;
}

async function lock(trx: Knex, space: string, id: string): Promise<void> {
  await trx.raw("select pg_advisory_xact_lock(hashtext(?), hashtext(?))", [space, id]);
}
