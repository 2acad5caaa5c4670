import type { Knex } from "knex";

/**
 * chat_replies.failures: how many times sending a reply failed. A reply whose chat keeps
 * refusing it (a deleted channel, an uninstalled app) was taken over and tried again every
 * hold forever; after ChatReplies' limit it is marked `failed` and left alone.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("chat_replies", (t) => {
    t.integer("failures").notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("chat_replies", (t) => {
    t.dropColumn("failures");
  });
}
