import type { Knex } from "knex";

/**
 * Claims an incoming message for handling, once across every process: chat platforms
 * retry deliveries and sometimes deliver one message twice (Slack: as `app_mention` and as
 * `message`). The database decides, so a retry reaching another web process is caught too.
 */
export class ChatDeliveries {
  constructor(private readonly knex: Knex) {}

  /** True for the first claim of (surface, key); false for every repeat. */
  async claim(surface: string, key: string): Promise<boolean> {
    const inserted = await this.knex("chat_deliveries")
      .insert({ surface, delivery_key: key })
      .onConflict(["surface", "delivery_key"])
      .ignore()
      .returning(["delivery_key"]);
    return inserted.length === 1;
  }

  /** Forgets claims older than `days`: retries come within minutes. */
  async prune(days = 7): Promise<number> {
    return this.knex("chat_deliveries")
      .where("received_at", "<", this.knex.raw("now() - make_interval(days => ?)", [days]))
      .delete();
  }
}
