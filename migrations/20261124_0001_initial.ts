import type { Knex } from "knex";

/**
 * The first schema. Shaped for the issues that fill it: identity (users, their chat
 * identities, teams), the agent registry, sessions with their transcripts, runs with their
 * ordered events, the cost ledger, budgets and approvals, the audit log, API and proxy keys,
 * and the tuples of the embedded authorization evaluator.
 *
 * Append-only: once landed, change the schema with a new migration, never by editing this.
 */

const now = (k: Knex) => k.fn.now();

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("users", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.text("email").notNullable().unique(); // stored lower-case: one user per person
    t.text("display_name");
    t.boolean("is_active").notNullable().defaultTo(true);
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(now(knex));
  });

  // Slack user ids, Teams AAD object ids, OIDC subjects: each maps onto one user.
  await knex.schema.createTable("user_identities", (t) => {
    t.bigIncrements("id");
    t.uuid("user_id").notNullable().references("users.id").onDelete("CASCADE");
    t.text("provider").notNullable(); // slack | teams | oidc
    t.text("tenant").notNullable().defaultTo(""); // Slack team id, Teams tenant id, OIDC issuer
    t.text("external_id").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.unique(["provider", "tenant", "external_id"]);
    t.index(["user_id"]);
  });

  await knex.schema.createTable("teams", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.text("slug").notNullable().unique();
    t.text("name").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(now(knex));
  });

  await knex.schema.createTable("team_members", (t) => {
    t.uuid("team_id").notNullable().references("teams.id").onDelete("CASCADE");
    t.uuid("user_id").notNullable().references("users.id").onDelete("CASCADE");
    t.text("role").notNullable().defaultTo("member"); // member | admin
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.primary(["team_id", "user_id"]);
    t.index(["user_id"]);
  });

  await knex.schema.createTable("agents", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.text("name").notNullable().unique(); // the manifest's stable slug
    t.text("title").notNullable();
    t.text("description").notNullable().defaultTo("");
    t.text("owner").notNullable(); // e.g. team:platform or user:ada@example.com
    t.text("runtime_type").notNullable();
    t.text("lifecycle").notNullable().defaultTo("experimental"); // experimental | production | deprecated
    t.text("state").notNullable().defaultTo("enabled"); // enabled | suspended | disabled
    t.text("state_reason");
    t.jsonb("tags").notNullable().defaultTo("[]");
    t.jsonb("manifest").notNullable(); // the whole manifest as applied
    t.text("manifest_digest").notNullable(); // tells an unchanged re-apply from an update
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("retired_at", { useTz: true });
    t.index(["owner"]);
    t.index(["runtime_type"]);
    t.index(["state"]);
  });

  // One session per (surface, conversation key, agent): a Slack thread, a Teams reply
  // chain, a site chat, an API session id.
  await knex.schema.createTable("sessions", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.uuid("agent_id").notNullable().references("agents.id");
    t.uuid("user_id").notNullable().references("users.id");
    t.text("surface").notNullable(); // slack | teams | site | api | a2a
    t.text("conversation_key").notNullable();
    t.text("title");
    t.jsonb("runtime_handle"); // the runtime's own session, so the next turn continues it
    t.text("status").notNullable().defaultTo("active"); // active | closed
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("last_activity_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.unique(["surface", "conversation_key", "agent_id"]);
    t.index(["user_id", "last_activity_at"]);
    t.index(["agent_id", "last_activity_at"]);
  });

  await knex.schema.createTable("runs", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.uuid("session_id").notNullable().references("sessions.id");
    t.uuid("agent_id").notNullable().references("agents.id");
    t.uuid("user_id").notNullable().references("users.id");
    t.text("status").notNullable().defaultTo("queued");
    t.text("input").notNullable();
    t.text("output");
    t.jsonb("error"); // { code, message } for a failed run
    t.text("idempotency_key");
    t.integer("attempt").notNullable().defaultTo(0);
    t.decimal("cost_usd", 18, 8).notNullable().defaultTo(0);
    t.text("worker_id");
    t.timestamp("lease_expires_at", { useTz: true });
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("started_at", { useTz: true });
    t.timestamp("finished_at", { useTz: true });
    t.index(["session_id", "created_at"]);
    t.index(["status"]);
    t.index(["user_id", "created_at"]);
    t.index(["agent_id", "created_at"]);
  });
  await knex.raw(
    `alter table runs add constraint runs_status_check check (status in
      ('queued', 'needs_approval', 'running', 'succeeded', 'failed', 'cancelled'))`,
  );
  // A repeated request (same Idempotency-Key, same Slack event) finds the run it started.
  await knex.raw(
    "create unique index runs_idempotency_key_unique on runs (idempotency_key) where idempotency_key is not null",
  );

  // The transcript: memory that travels with the session, whatever the runtime.
  await knex.schema.createTable("messages", (t) => {
    t.bigIncrements("id");
    t.uuid("session_id").notNullable().references("sessions.id").onDelete("CASCADE");
    t.uuid("run_id").references("runs.id");
    t.text("role").notNullable(); // user | agent | system
    t.text("content").notNullable();
    t.jsonb("metadata").notNullable().defaultTo("{}");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.index(["session_id", "id"]);
  });

  await knex.schema.createTable("run_events", (t) => {
    t.uuid("run_id").notNullable().references("runs.id").onDelete("CASCADE");
    t.integer("seq").notNullable(); // order within the run; SSE resumes from it
    t.text("type").notNullable();
    t.jsonb("data").notNullable().defaultTo("{}");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.primary(["run_id", "seq"]);
  });

  // Cost attributed per agent, runtime, model, user and team; written by runs and the proxy.
  await knex.schema.createTable("ledger", (t) => {
    t.bigIncrements("id");
    t.timestamp("occurred_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.text("source").notNullable(); // runtime | proxy
    t.uuid("agent_id");
    t.text("runtime");
    t.text("model");
    t.uuid("user_id");
    t.uuid("team_id");
    t.uuid("run_id");
    t.uuid("session_id");
    t.uuid("api_key_id");
    t.bigInteger("input_tokens").notNullable().defaultTo(0);
    t.bigInteger("output_tokens").notNullable().defaultTo(0);
    t.bigInteger("cache_read_tokens").notNullable().defaultTo(0);
    t.bigInteger("cache_write_tokens").notNullable().defaultTo(0);
    t.decimal("cost_usd", 18, 8).notNullable().defaultTo(0);
    t.text("dedupe_key").unique(); // a retried batch write never counts twice
    t.jsonb("metadata").notNullable().defaultTo("{}");
    t.index(["occurred_at"]);
    t.index(["agent_id", "occurred_at"]);
    t.index(["user_id", "occurred_at"]);
    t.index(["team_id", "occurred_at"]);
    t.index(["run_id"]);
  });

  await knex.schema.createTable("budgets", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.text("scope_type").notNullable(); // org | team | user | agent
    t.text("scope_id").notNullable();
    t.text("period").notNullable(); // day | week | month
    t.decimal("limit_usd", 18, 8).notNullable();
    t.text("on_exceed").notNullable().defaultTo("approve"); // block | approve | warn
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.unique(["scope_type", "scope_id", "period"]);
  });

  await knex.schema.createTable("approvals", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.uuid("budget_id").references("budgets.id");
    t.uuid("run_id").references("runs.id");
    t.uuid("requested_by").notNullable().references("users.id");
    t.text("status").notNullable().defaultTo("pending"); // pending | approved | denied | expired
    t.decimal("amount_usd", 18, 8);
    t.text("reason");
    t.uuid("decided_by").references("users.id");
    t.timestamp("decided_at", { useTz: true });
    t.jsonb("notified").notNullable().defaultTo("[]"); // where the buttons were posted
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.timestamp("expires_at", { useTz: true });
    t.index(["status", "created_at"]);
  });

  await knex.schema.createTable("audit_log", (t) => {
    t.bigIncrements("id");
    t.timestamp("occurred_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.text("actor").notNullable(); // user:EMAIL, or system:NAME for start-up and the CLI
    t.text("action").notNullable(); // e.g. agent.created, authz.granted
    t.text("target_type");
    t.text("target_id");
    t.jsonb("details").notNullable().defaultTo("{}");
    t.text("request_id");
    t.index(["occurred_at"]);
    t.index(["target_type", "target_id"]);
  });

  // API keys for the REST API and virtual keys for the model proxy; only hashes are kept.
  await knex.schema.createTable("api_keys", (t) => {
    t.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    t.text("kind").notNullable(); // api | proxy
    t.text("name");
    t.text("prefix").notNullable(); // shown in lists so a person can tell keys apart
    t.text("key_hash").notNullable().unique();
    t.uuid("user_id").references("users.id");
    t.uuid("team_id").references("teams.id");
    t.uuid("agent_id").references("agents.id");
    t.uuid("run_id").references("runs.id"); // short-lived proxy keys handed to one run
    t.uuid("session_id").references("sessions.id");
    t.jsonb("allowed_models"); // null: every model
    t.integer("rpm_limit");
    t.integer("tpm_limit");
    t.decimal("budget_usd", 18, 8);
    t.timestamp("expires_at", { useTz: true });
    t.timestamp("revoked_at", { useTz: true });
    t.timestamp("last_used_at", { useTz: true });
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.index(["user_id"]);
  });

  // Relationship tuples for the embedded authorization evaluator (OpenFGA's own store
  // holds them when OPENFGA_API_URL is set).
  await knex.schema.createTable("authz_tuples", (t) => {
    t.text("object").notNullable();
    t.text("relation").notNullable();
    t.text("subject").notNullable(); // OpenFGA's "user": user:x, team:y#member, user:*
    t.bigIncrements("revision", { primaryKey: false }); // order of writes, for change feeds
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(now(knex));
    t.primary(["object", "relation", "subject"]);
    t.index(["subject"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    "authz_tuples",
    "api_keys",
    "audit_log",
    "approvals",
    "budgets",
    "ledger",
    "run_events",
    "messages",
    "runs",
    "sessions",
    "agents",
    "team_members",
    "teams",
    "user_identities",
    "users",
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
