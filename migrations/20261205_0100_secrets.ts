import type { Knex } from "knex";

/**
 * The secret store (secrets/). One row per secret: its metadata, its value sealed with
 * AES-256-GCM under a data key of its own, and that data key wrapped under a key-encryption
 * key named by `key_id` (of SECRETS_KEYS, the embedded default's key file, or a KMS). No
 * column ever holds a value in the clear. Who owns a secret and which agents may use it
 * are tuples in the authorization store, not columns.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("secrets", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    // Lower case: `{ secret: API_KEY }` and `{ secret: api_key }` name the same secret.
    t.text("name").notNullable().unique();
    t.text("owner").notNullable(); // user:EMAIL or team:SLUG
    t.text("description").notNullable().defaultTo("");
    t.binary("ciphertext").notNullable(); // iv | tag | sealed value
    t.binary("data_key").notNullable(); // the data key, wrapped
    t.text("key_id").notNullable();
    // Bumped with each new value; sealed into the ciphertext so an older one cannot be put back.
    t.integer("version").notNullable().defaultTo(1);
    t.text("created_by").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text("updated_by").notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(["key_id"]);
  });
  await knex.raw(
    "alter table secrets add constraint secrets_name_lower check (name = lower(name))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("secrets");
}
