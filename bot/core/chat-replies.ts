import type { Knex } from "knex";

/** A run's answer on its way to a chat: where it goes and how far it got. */
export interface PendingReply {
  runId: string;
  surface: string;
  target: Record<string, unknown>;
  progress: Record<string, unknown>;
}

/**
 * Replies in flight, kept in the database so a web process that stops mid-reply (deploy,
 * crash) finishes them when it starts again: the run's events are all stored, so the reply
 * is rebuilt from them.
 */
export class ChatReplies {
  constructor(private readonly knex: Knex) {}

  async add(surface: string, runId: string, target: Record<string, unknown>): Promise<boolean> {
    const inserted = await this.knex("chat_replies")
      .insert({ run_id: runId, surface, target: JSON.stringify(target) })
      .onConflict("run_id")
      .ignore()
      .returning(["run_id"]);
    return inserted.length === 1;
  }

  async saveProgress(runId: string, progress: Record<string, unknown>): Promise<void> {
    await this.knex("chat_replies")
      .where({ run_id: runId })
      .update({ progress: JSON.stringify(progress), updated_at: this.knex.fn.now() });
  }

  async done(runId: string): Promise<void> {
    await this.knex("chat_replies")
      .where({ run_id: runId })
      .update({ state: "done", updated_at: this.knex.fn.now() });
  }

  async pending(surface: string, limit = 200): Promise<PendingReply[]> {
    const rows = await this.knex("chat_replies")
      .where({ surface, state: "pending" })
      .orderBy("created_at")
      .limit(limit);
    return rows.map((row) => ({
      runId: row.run_id,
      surface: row.surface,
      target: row.target,
      progress: row.progress,
    }));
  }
}
