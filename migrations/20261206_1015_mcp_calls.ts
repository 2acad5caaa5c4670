import type { Knex } from "knex";

/**
 * MCP tool calls in flight (directory/mcp): which run a person's JSON-RPC request started.
 * The MCP server is stateless behind several `serve` processes, so a client's
 * `notifications/cancelled` may reach a process other than the one following the run; this
 * is how that process finds the run to cancel. Rows go when the call ends.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("mcp_calls", (t) => {
    t.uuid("run_id").primary().references("runs.id").onDelete("CASCADE");
    t.uuid("user_id").notNullable().references("users.id").onDelete("CASCADE");
    /** The JSON-RPC request id as JSON (`7`, `"abc"`): ids are numbers or strings. */
    t.text("request_key").notNullable();
    t.timestamp("started_at", { useTz: true }).notNullable().defaultTo(knex.raw("now()"));
    t.index(["user_id", "request_key"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("mcp_calls");
}
