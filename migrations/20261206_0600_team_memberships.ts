import type { Knex } from "knex";

/**
 * Teams from the identity provider (SCIM 2.0, OIDC groups claims).
 * - users.scim_user_name / scim_external_id / given_name / family_name: what the identity
 *   provider calls a person (its userName, which need not be their email, and its own id),
 *   so its lookups (`userName eq "…"`) find them again. One user per person is still keyed
 *   by email. scim_deleted_at: the provider deleted the person (kept for their history).
 * - teams.scim_external_id / scim_provisioned_at: a team that is a SCIM Group; set while the
 *   provider manages it, cleared when it deletes the Group (the team itself stays: agents
 *   may be owned by it).
 * - team_memberships: where each membership came from (scim | oidc | manual), one row per
 *   source, so the site can show it and a source only ever takes away its own: the OpenFGA
 *   tuple `team:SLUG#member` goes when the last source does, and a manual membership is never
 *   removed by SCIM.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("users", (t) => {
    t.text("scim_user_name");
    t.text("scim_external_id");
    t.text("given_name");
    t.text("family_name");
    // A person the provider deleted: refused everywhere like a deactivated one, and no
    // longer a SCIM resource (its runs and audit entries keep the row).
    t.timestamp("scim_deleted_at", { useTz: true });
  });
  // userName is unique without regard to case (RFC 7643 §4.1.1: caseExact false).
  await knex.raw(
    "create unique index users_scim_user_name_unique on users (lower(scim_user_name)) where scim_user_name is not null",
  );
  await knex.schema.alterTable("teams", (t) => {
    t.text("scim_external_id");
    t.timestamp("scim_provisioned_at", { useTz: true });
  });
  await knex.schema.createTable("team_memberships", (t) => {
    t.text("team_slug").notNullable().references("teams.slug").onDelete("CASCADE");
    t.uuid("user_id").notNullable().references("users.id").onDelete("CASCADE");
    t.text("source").notNullable(); // scim | oidc | manual
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(["team_slug", "user_id", "source"]);
    t.index(["user_id"]);
  });
  await knex.raw(
    "alter table team_memberships add constraint team_memberships_source_check check (source in ('scim', 'oidc', 'manual'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("team_memberships");
  await knex.schema.alterTable("teams", (t) => {
    t.dropColumn("scim_external_id");
    t.dropColumn("scim_provisioned_at");
  });
  await knex.raw("drop index if exists users_scim_user_name_unique");
  await knex.schema.alterTable("users", (t) => {
    t.dropColumn("scim_user_name");
    t.dropColumn("scim_external_id");
    t.dropColumn("given_name");
    t.dropColumn("family_name");
    t.dropColumn("scim_deleted_at");
  });
}
