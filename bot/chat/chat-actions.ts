import type { Knex } from "knex";
import { isUuid } from "../../core/index.js";

/**
 * What an interactive button stands for, stored here so the button itself carries only an
 * opaque id: nothing a person could edit in a payload changes what a click does, and the
 * click is checked against the clicking person's rights when it arrives.
 */
export class ChatActions {
  constructor(private readonly knex: Knex) {}

  async create(surface: string, kind: string, payload: Record<string, unknown>): Promise<string> {
    const [row] = await this.knex("chat_actions")
      .insert({ surface, kind, payload: JSON.stringify(payload) })
      .returning(["id"]);
    return row.id as string;
  }

  async find(
    surface: string,
    id: string,
  ): Promise<{ kind: string; payload: Record<string, unknown>; usedAt: Date | null } | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.knex("chat_actions").where({ id, surface }).first();
    return row ? { kind: row.kind, payload: row.payload, usedAt: row.used_at } : undefined;
  }

  /** Marks the action used; false when it already was (a double click, a retried payload). */
  async use(id: string): Promise<boolean> {
    const updated = await this.knex("chat_actions")
      .where({ id })
      .whereNull("used_at")
      .update({ used_at: this.knex.fn.now() });
    return updated === 1;
  }

  /** Forgets actions older than `days`: a button that old has scrolled out of use. */
  async prune(days = 30): Promise<number> {
    return this.knex("chat_actions")
      .where("created_at", "<", this.knex.raw("now() - make_interval(days => ?)", [days]))
      .delete();
  }
}
