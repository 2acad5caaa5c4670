import type { Knex } from "knex";

/**
 * The directory site's signed-in sessions, kept on the server so that signing out, an
 * admin's revocation and expiry end them everywhere, not only in one browser's cookie jar.
 * The cookie carries a random token; only its SHA-256 is stored here. Anonymous sessions
 * (a visitor before sign-in, for the sign-in form's CSRF token) stay cookie-only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("site_sessions", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.text("token_hash").notNullable().unique();
    t.uuid("user_id").notNullable().references("users.id").onDelete("CASCADE");
    t.text("method").notNullable(); // development | oidc | trusted_header
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Written at most once a minute per session, not on every request.
    t.timestamp("last_seen_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("expires_at", { useTz: true }).notNullable();
    // For the admin's list: which browser, from where, at sign-in.
    t.text("user_agent");
    t.text("address");
    t.index(["user_id"]);
    t.index(["expires_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("site_sessions");
}
