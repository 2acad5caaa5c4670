import type { Knex } from "knex";

/**
 * Featured agents: ones platform admins offer to everyone. In chat, a person's first word
 * picks an agent only among those they already use, their team's and the featured ones
 * (bot/chat/named-agent.ts), so a newly registered agent named like a common word cannot
 * capture requests. Set with `switchboard agents feature NAME`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("agents", (t) => {
    t.boolean("featured").notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("agents", (t) => {
    t.dropColumn("featured");
  });
}
