import type { Knex } from "knex";
import { conflict } from "../../core/index.js";
import { BudgetAdmission, Ledger, type LedgerEntry } from "../../governance/index.js";
import type { Run, RunError, RunEvent, RunEventType, Session, SessionSurface } from "../records.js";
import {
  RUN_COLUMNS,
  type RunEventRow,
  type RunRow,
  runEventFromRow,
  runFromRow,
} from "./run-rows.js";
import { SessionStore } from "./session-store.js";

export interface NewRun {
  agent: { id: string; runtime: string };
  userId: string;
  input: string;
  /** Continue this session… */
  session?: Session;
  /** …or find or open the one for this conversation. */
  conversation?: { surface: SessionSurface; conversationKey: string; title?: string };
  /** A repeated request with the same key gets the run the first one started. */
  idempotencyKey?: string | undefined;
  /** The run's id, when admission chose it (its budget reservations name it). */
  id?: string | undefined;
  /** Held for an approver's yes: stored as `needs_approval`, naming its approval. */
  hold?: { approvalId: string; message: string } | undefined;
  /**
   * The caller found no run with `idempotencyKey` just before: it is not looked up again,
   * and a request that used it since loses to this one at the insert, or wins and is answered.
   */
  keyUnused?: boolean | undefined;
}

export interface CreatedRun {
  run: Run;
  session: Session;
  /** false: the idempotency key named a run that already existed. */
  created: boolean;
}

/** An event to store: its seq is given by the one writer of the run's attempt. */
export interface NewRunEvent {
  seq: number;
  type: RunEventType;
  data: Record<string, unknown>;
}

/** How an attempt ended, written in one transaction with the transcript and the ledger. */
export interface RunOutcome {
  status: "succeeded" | "failed" | "cancelled";
  output?: string | undefined;
  error?: RunError | undefined;
  events: NewRunEvent[];
  /** What the runtime reported; booked by governance, which sets the run's cost. */
  ledger: LedgerEntry[];
}

/**
 * Runs, their timelines and the transcript messages they add. Writes by a worker are
 * fenced on (run id, attempt): a worker that lost its lease (stalled, partitioned) and
 * comes back finds its updates match nothing, and its event inserts collide on seq.
 */
export class RunStore {
  private readonly sessions: SessionStore;

  constructor(private readonly knex: Knex) {
    this.sessions = new SessionStore(knex);
  }

  async get(id: string): Promise<Run | undefined> {
    const row = (await this.knex("runs").select(RUN_COLUMNS).where({ id }).first()) as
      | RunRow
      | undefined;
    return row ? runFromRow(row) : undefined;
  }

  async findByIdempotencyKey(key: string): Promise<Run | undefined> {
    const row = (await this.knex("runs")
      .select(RUN_COLUMNS)
      .where({ idempotency_key: key })
      .first()) as RunRow | undefined;
    return row ? runFromRow(row) : undefined;
  }

  /**
   * Records a run, queued, with the person's message in the transcript and the first event
   * of its timeline. With an idempotency key already used, answers the existing run
   * (created: false), or a conflict when the key was used for a different request.
   */
  async create(request: NewRun): Promise<CreatedRun> {
    if (request.idempotencyKey && !request.keyUnused) {
      const existing = await this.findExisting(request);
      if (existing) return existing;
    }
    return this.knex
      .transaction(async (trx) => {
        const session =
          request.session ??
          (await this.sessions.findOrCreate(
            {
              surface: request.conversation?.surface ?? "api",
              conversationKey: request.conversation?.conversationKey ?? "",
              agentId: request.agent.id,
            },
            { userId: request.userId, title: request.conversation?.title },
            trx,
          ));
        // The run, the person's message, the timeline's first event and the session's
        // activity, in one statement: starting a run is on the path every surface waits for.
        // With the key already used, nothing is inserted and the transaction rolls back.
        const inserted = await trx.raw(
          `with run as (
             insert into runs (id, session_id, agent_id, user_id, surface, runtime, input,
                               idempotency_key, status, approval_id)
             values (coalesce(?::uuid, gen_random_uuid()), ?, ?, ?, ?, ?, ?, ?, ?, ?)
             on conflict (idempotency_key) where idempotency_key is not null do nothing
             returning ${RUN_COLUMNS.join(", ")}
           ), message as (
             insert into messages (session_id, run_id, role, content)
             select ?::uuid, id, 'user', ?::text from run
           ), first_event as (
             insert into run_events (run_id, seq, type, data)
             select id, 1, 'run.status', ?::jsonb from run
           ), activity as (
             update sessions set last_activity_at = now(), status = 'active'
             where id = ?::uuid and exists (select 1 from run)
           )
           select * from run`,
          [
            request.id ?? null,
            session.id,
            request.agent.id,
            request.userId,
            session.surface,
            request.agent.runtime,
            request.input,
            request.idempotencyKey ?? null,
            request.hold ? "needs_approval" : "queued",
            request.hold?.approvalId ?? null,
            session.id,
            request.input,
            JSON.stringify({ status: request.hold ? "needs_approval" : "queued" }),
            session.id,
          ],
        );
        const row = inserted.rows[0] as RunRow | undefined;
        if (!row) {
          // Another request with the same key won the race; answer its run.
          throw new IdempotencyRace();
        }
        if (request.hold) {
          // What the surfaces show while it waits (a chat thread says so, as for a full slot).
          await this.appendEvents(
            row.id,
            [
              {
                seq: 2,
                type: "run.status",
                data: {
                  status: "waiting",
                  reason: "needs_approval",
                  approval_id: request.hold.approvalId,
                  message: request.hold.message,
                },
              },
            ],
            trx,
          );
        }
        return { run: runFromRow(row), session, created: true };
      })
      .catch(async (error) => {
        if (!(error instanceof IdempotencyRace)) throw error;
        const existing = await this.findExisting(request);
        if (!existing) throw error;
        return existing;
      });
  }

  private async findExisting(request: NewRun): Promise<CreatedRun | undefined> {
    const key = request.idempotencyKey;
    if (!key) return undefined;
    const run = await this.findByIdempotencyKey(key);
    if (!run) return undefined;
    if (
      run.agentId !== request.agent.id ||
      run.input !== request.input ||
      run.userId !== request.userId
    ) {
      throw conflict(
        "This Idempotency-Key was already used for a different request; use a new key for a new run.",
        { run_id: run.id },
      );
    }
    const session = await this.sessions.get(run.sessionId);
    if (!session) throw new Error(`run ${run.id} has no session`);
    return { run, session, created: false };
  }

  /** The session's oldest run that has not finished (queued, or running when its worker died). */
  async nextUnfinished(sessionId: string): Promise<Run | undefined> {
    const row = (await this.knex("runs")
      .select(RUN_COLUMNS)
      .where({ session_id: sessionId })
      .whereIn("status", ["queued", "running"])
      .orderBy("enqueued_seq")
      .first()) as RunRow | undefined;
    return row ? runFromRow(row) : undefined;
  }

  /** The runs of a session, oldest first. */
  async listForSession(sessionId: string): Promise<Run[]> {
    const rows = await this.knex("runs")
      .select(RUN_COLUMNS)
      .where({ session_id: sessionId })
      .orderBy("enqueued_seq");
    return rows.map(runFromRow);
  }

  /**
   * Starts attempt `attempt` of a run that was at `attempt - 1`, for `workerId`. False when
   * the run moved on meanwhile (cancelled, or another worker's attempt).
   */
  async startAttempt(
    runId: string,
    attempt: number,
    workerId: string,
    trx: Knex = this.knex,
  ): Promise<boolean> {
    const updated = await trx("runs")
      .where({ id: runId, attempt: attempt - 1 })
      .whereIn("status", ["queued", "running"])
      .update({
        status: "running",
        attempt,
        worker_id: workerId,
        started_at: trx.raw("coalesce(started_at, now())"),
        updated_at: trx.fn.now(),
        waiting_since: null,
        waiting_reason: null,
      });
    return updated === 1;
  }

  async lastSeq(runId: string, trx: Knex = this.knex): Promise<number> {
    const row = await trx("run_events").where({ run_id: runId }).max("seq as seq").first();
    return Number(row?.seq ?? 0);
  }

  async appendEvents(
    runId: string,
    events: readonly NewRunEvent[],
    trx: Knex = this.knex,
  ): Promise<void> {
    if (events.length === 0) return;
    await trx("run_events").insert(
      events.map((event) => ({
        run_id: runId,
        seq: event.seq,
        type: event.type,
        data: JSON.stringify(event.data),
      })),
    );
  }

  /** Events after `afterSeq`, in order. */
  async events(runId: string, afterSeq = 0, limit = 1000): Promise<RunEvent[]> {
    const rows = (await this.knex("run_events")
      .select("seq", "type", "data", "created_at")
      .where({ run_id: runId })
      .andWhere("seq", ">", afterSeq)
      .orderBy("seq")
      .limit(limit)) as RunEventRow[];
    return rows.map(runEventFromRow);
  }

  /**
   * Ends attempt `attempt`: status, output, the agent's message in the transcript, the
   * last events and the ledger entries, all or nothing. False when the attempt was no
   * longer the run's (fenced off): nothing was written.
   */
  async finish(runId: string, attempt: number, outcome: RunOutcome): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const [row] = await trx("runs")
        .where({ id: runId, attempt, status: "running" })
        .update({
          status: outcome.status,
          output: outcome.output ?? null,
          error: outcome.error ? JSON.stringify(outcome.error) : null,
          finished_at: trx.fn.now(),
          updated_at: trx.fn.now(),
          worker_id: null,
        })
        .returning(["session_id"]);
      if (!row) return false;
      await this.appendEvents(runId, outcome.events, trx);
      if (outcome.status === "succeeded" && outcome.output !== undefined) {
        await trx("messages").insert({
          session_id: row.session_id,
          run_id: runId,
          role: "agent",
          content: outcome.output,
        });
      }
      // The run's cost becomes everything booked to it: these rows and its proxy calls; what
      // it held against budgets while in flight is given back for that real cost.
      await new Ledger(trx).book(outcome.ledger);
      await new BudgetAdmission(trx).release(runId);
      await trx("sessions")
        .where({ id: row.session_id })
        .update({ last_activity_at: trx.fn.now() });
      return true;
    });
  }

  /**
   * Asks for a run to stop. A queued run is cancelled at once; a running one is marked, and
   * its worker stops it. Answers the run as it now is.
   */
  async requestCancel(runId: string): Promise<Run | undefined> {
    return this.knex.transaction(async (trx) => {
      const [queued] = await trx("runs")
        .where({ id: runId })
        .whereIn("status", ["queued", "needs_approval"])
        .update({
          status: "cancelled",
          cancel_requested_at: trx.fn.now(),
          finished_at: trx.fn.now(),
          updated_at: trx.fn.now(),
        })
        .returning(["id"]);
      if (queued) {
        await new BudgetAdmission(trx).release(runId);
        const seq = (await this.lastSeq(runId, trx)) + 1;
        await this.appendEvents(
          runId,
          [
            {
              seq,
              type: "run.status",
              data: { status: "cancelled", reason: "cancelled before it started" },
            },
          ],
          trx,
        );
      } else {
        await trx("runs")
          .where({ id: runId, status: "running" })
          .whereNull("cancel_requested_at")
          .update({ cancel_requested_at: trx.fn.now(), updated_at: trx.fn.now() });
      }
      const row = (await trx("runs").select(RUN_COLUMNS).where({ id: runId }).first()) as
        | RunRow
        | undefined;
      return row ? runFromRow(row) : undefined;
    });
  }

  /**
   * Moves a run held for approval `approvalId` on: to `queued` (approved), to `failed` with
   * the error (denied, expired, refused on a second look), or to wait for another approval.
   * False when the run is no longer held for that approval (cancelled meanwhile): nothing
   * changes.
   */
  async moveHeld(
    runId: string,
    approvalId: string,
    next:
      | { status: "queued"; data: Record<string, unknown> }
      | { status: "failed"; error: RunError }
      | { status: "needs_approval"; approvalId: string; message: string },
  ): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const changes: Record<string, unknown> = { updated_at: trx.fn.now() };
      if (next.status === "failed") {
        Object.assign(changes, {
          status: "failed",
          error: JSON.stringify(next.error),
          finished_at: trx.fn.now(),
        });
      } else if (next.status === "queued") {
        changes.status = "queued";
      } else {
        changes.approval_id = next.approvalId;
      }
      const [moved] = await trx("runs")
        .where({ id: runId, status: "needs_approval", approval_id: approvalId })
        .update(changes)
        .returning(["id"]);
      if (!moved) return false;
      const seq = (await this.lastSeq(runId, trx)) + 1;
      const data =
        next.status === "failed"
          ? { status: "failed", error: next.error }
          : next.status === "queued"
            ? { status: "queued", ...next.data }
            : {
                status: "waiting",
                reason: "needs_approval",
                approval_id: next.approvalId,
                message: next.message,
              };
      await this.appendEvents(runId, [{ seq, type: "run.status", data }], trx);
      return true;
    });
  }

  async isCancelRequested(runId: string): Promise<boolean> {
    const row = await this.knex("runs").select("cancel_requested_at").where({ id: runId }).first();
    return Boolean(row?.cancel_requested_at);
  }
}

class IdempotencyRace extends Error {}
