import type { Knex } from "knex";

/**
 * SCIM lists are found and paged by the database (directory/scim): identity providers look
 * people up by externalId (Entra) and page through everyone in creation order, so both are
 * indexed, and a large directory is never read whole. (userName uses the unique
 * lower(scim_user_name) index; email its unique index.)
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "create index users_scim_external_id_index on users (scim_external_id) where scim_external_id is not null",
  );
  await knex.raw("create index users_created_at_id_index on users (created_at, id)");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists users_created_at_id_index");
  await knex.raw("drop index if exists users_scim_external_id_index");
}
