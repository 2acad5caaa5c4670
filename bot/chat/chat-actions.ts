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

  /**
   * Remembers where the message holding these buttons landed, so that what they ask can be
   * replaced everywhere once it is decided (ChatCore.replaceOffers).
   */
  async place(ids: readonly string[], posted: Record<string, unknown>): Promise<void> {
    if (ids.length === 0) return;
    await this.knex("chat_actions")
      .whereIn("id", ids)
      .update({
        payload: this.knex.raw("payload || jsonb_build_object('_posted', ?::jsonb)", [
          JSON.stringify(posted),
        ]),
      });
  }

  /** Where the messages with buttons of `kind` whose payload has `key` = `value` landed. */
  async placed(
    surface: string,
    kind: string,
    key: string,
    value: string,
  ): Promise<Record<string, string | boolean>[]> {
    const rows = await this.knex("chat_actions")
      .where({ surface, kind })
      .whereRaw("payload ->> ? = ?", [key, value])
      .whereRaw("payload -> '_posted' is not null")
      .select(this.knex.raw("payload -> '_posted' as posted"));
    return rows.map((row: { posted: Record<string, string | boolean> }) => row.posted);
  }

  /**
   * The payload of the newest record of `kind` whose payload has `key` = `value`: records
   * that are no button (where a request was asked from) are kept here too, pruned alike.
   */
  async latest(
    surface: string,
    kind: string,
    key: string,
    value: string,
  ): Promise<Record<string, unknown> | undefined> {
    const row = await this.knex("chat_actions")
      .where({ surface, kind })
      .whereRaw("payload ->> ? = ?", [key, value])
      .orderBy("created_at", "desc")
      .first("payload");
    return row?.payload as Record<string, unknown> | undefined;
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
