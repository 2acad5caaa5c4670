import type { Knex } from "knex";
import { badRequest, isUuid } from "../../core/index.js";
import type { RuntimeHandle } from "../../runtimes/index.js";
import type { Session, SessionSurface, TranscriptEntry } from "../records.js";

interface SessionRow {
  id: string;
  agent_id: string;
  user_id: string;
  surface: string;
  conversation_key: string;
  title: string | null;
  runtime_handle: RuntimeHandle | null;
  status: string;
  created_at: Date;
  last_activity_at: Date;
}

const COLUMNS = [
  "id",
  "agent_id",
  "user_id",
  "surface",
  "conversation_key",
  "title",
  "runtime_handle",
  "status",
  "created_at",
  "last_activity_at",
];

function sessionFromRow(row: SessionRow): Session {
  return {
    id: row.id,
    agentId: row.agent_id,
    userId: row.user_id,
    surface: row.surface as SessionSurface,
    conversationKey: row.conversation_key,
    title: row.title,
    runtimeHandle: row.runtime_handle,
    status: row.status as Session["status"],
    createdAt: row.created_at,
    lastActivityAt: row.last_activity_at,
  };
}

export interface SessionKey {
  surface: SessionSurface;
  conversationKey: string;
  agentId: string;
}

/** A page of a person's sessions, newest activity first. */
export interface SessionPage {
  items: Session[];
  nextCursor: string | null;
}

/** Sessions and their transcripts. The lease columns belong to `SessionLeases`. */
export class SessionStore {
  constructor(private readonly knex: Knex) {}

  async get(id: string): Promise<Session | undefined> {
    return this.first(this.knex, { id });
  }

  async find(key: SessionKey, trx: Knex = this.knex): Promise<Session | undefined> {
    return this.first(trx, {
      surface: key.surface,
      conversation_key: key.conversationKey,
      agent_id: key.agentId,
    });
  }

  private async first(knex: Knex, where: Record<string, string>): Promise<Session | undefined> {
    const row = (await knex("sessions").select(COLUMNS).where(where).first()) as
      | SessionRow
      | undefined;
    return row ? sessionFromRow(row) : undefined;
  }

  /** The conversation's most recently active session, with any agent (a thread's current agent). */
  async latestForConversation(
    surface: SessionSurface,
    conversationKey: string,
  ): Promise<Session | undefined> {
    const row = (await this.knex("sessions")
      .select(COLUMNS)
      .where({ surface, conversation_key: conversationKey })
      .orderBy("last_activity_at", "desc")
      .first()) as SessionRow | undefined;
    return row ? sessionFromRow(row) : undefined;
  }

  /** Whether the person has a session with this agent (in any conversation). */
  async hasSessionWith(userId: string, agentId: string): Promise<boolean> {
    const row = await this.knex("sessions")
      .where({ user_id: userId, agent_id: agentId })
      .first(this.knex.raw("1 as one"));
    return row !== undefined;
  }

  /** Whether the person asked for a turn in this conversation, with any agent. */
  async tookPart(
    userId: string,
    surface: SessionSurface,
    conversationKey: string,
  ): Promise<boolean> {
    const row = await this.knex("runs as r")
      .join("sessions as s", "s.id", "r.session_id")
      .where({ "s.surface": surface, "s.conversation_key": conversationKey, "r.user_id": userId })
      .first("r.id");
    return row !== undefined;
  }

  /**
   * The session for this conversation, created on first use. Two requests racing to create
   * it end with one row: the unique key decides and the loser reads the winner's.
   */
  async findOrCreate(
    key: SessionKey,
    owner: { userId: string; title?: string | undefined },
    trx: Knex = this.knex,
  ): Promise<Session> {
    const [inserted] = await trx("sessions")
      .insert({
        agent_id: key.agentId,
        user_id: owner.userId,
        surface: key.surface,
        conversation_key: key.conversationKey,
        title: owner.title ?? null,
      })
      .onConflict(["surface", "conversation_key", "agent_id"])
      .ignore()
      .returning(COLUMNS);
    if (inserted) return sessionFromRow(inserted as SessionRow);
    const existing = await this.find(key, trx);
    if (!existing) throw new Error("session vanished between insert and select");
    return existing;
  }

  async setHandle(id: string, handle: RuntimeHandle): Promise<void> {
    await this.knex("sessions")
      .where({ id })
      .update({ runtime_handle: JSON.stringify(handle), updated_at: this.knex.fn.now() });
  }

  /**
   * Marks the session closed and forgets its runtime handle, unless a run of it has not
   * finished. Answers the session as it was (its handle is what the runtime is told to close),
   * or the unfinished run's id. The row lock orders it with a run being started in the
   * session: that run sets it active again, and with no handle its runtime starts afresh.
   */
  async close(id: string): Promise<{ closed: Session } | { unfinishedRun: string } | undefined> {
    return this.knex.transaction(async (trx) => {
      const row = (await trx("sessions").select(COLUMNS).where({ id }).forUpdate().first()) as
        | SessionRow
        | undefined;
      if (!row) return undefined;
      const unfinished = (await trx("runs")
        .where({ session_id: id })
        .whereIn("status", ["queued", "needs_approval", "running"])
        .first("id")) as { id: string } | undefined;
      if (unfinished) return { unfinishedRun: unfinished.id };
      await trx("sessions")
        .where({ id })
        .update({ status: "closed", runtime_handle: null, updated_at: trx.fn.now() });
      return { closed: sessionFromRow(row) };
    });
  }

  /** A person's sessions, optionally of one agent, newest activity first. */
  async listForUser(
    userId: string,
    options: { agentId?: string | undefined; cursor?: string | undefined; limit: number },
  ): Promise<SessionPage> {
    const query = this.knex("sessions")
      .select(COLUMNS)
      .where({ user_id: userId })
      .orderBy([
        { column: "last_activity_at", order: "desc" },
        { column: "id", order: "desc" },
      ])
      .limit(options.limit + 1);
    if (options.agentId) query.andWhere({ agent_id: options.agentId });
    const after = options.cursor ? decodeSessionCursor(options.cursor) : undefined;
    if (after) {
      query.andWhere((q) =>
        q
          .where("last_activity_at", "<", after.at)
          .orWhere((same) =>
            same.where("last_activity_at", "=", after.at).andWhere("id", "<", after.id),
          ),
      );
    }
    const rows = (await query) as SessionRow[];
    const items = rows.slice(0, options.limit).map(sessionFromRow);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > options.limit && last ? encodeSessionCursor(last) : null,
    };
  }

  /**
   * The whole transcript, turn by turn: each run's question then its answer, in the order
   * the runs were asked for (a question asked while an earlier turn ran waits its turn).
   */
  async transcript(sessionId: string): Promise<TranscriptEntry[]> {
    const rows = await this.knex("messages as m")
      .leftJoin("runs as r", "r.id", "m.run_id")
      .select("m.id", "m.run_id", "m.role", "m.content", "m.created_at")
      .where("m.session_id", sessionId)
      .orderByRaw("r.enqueued_seq asc nulls first, m.id asc");
    return rows.map(entryFromRow);
  }

  /**
   * What a runtime is told of the conversation before `runId`: the questions and answers
   * of the earlier turns that succeeded (a failed turn's question had no answer).
   */
  async memoryBefore(sessionId: string, runId: string): Promise<TranscriptEntry[]> {
    const rows = await this.knex("messages as m")
      .join("runs as r", "r.id", "m.run_id")
      .select("m.id", "m.run_id", "m.role", "m.content", "m.created_at")
      .where("m.session_id", sessionId)
      .andWhere("r.status", "succeeded")
      .andWhere(
        "r.enqueued_seq",
        "<",
        this.knex("runs").select("enqueued_seq").where({ id: runId }),
      )
      .orderByRaw("r.enqueued_seq asc, m.id asc");
    return rows.map(entryFromRow);
  }
}

function entryFromRow(row: Record<string, unknown>): TranscriptEntry {
  return {
    id: Number(row.id),
    runId: row.run_id as string | null,
    role: row.role as TranscriptEntry["role"],
    content: row.content as string,
    at: row.created_at as Date,
  };
}

function encodeSessionCursor(session: Session): string {
  return Buffer.from(`${session.lastActivityAt.toISOString()}|${session.id}`).toString("base64url");
}

function decodeSessionCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const date = at ? new Date(at) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !id || !isUuid(id)) {
    throw badRequest("The cursor is not one this API gave out; start again without it.");
  }
  return { at: date, id };
}
