import type { Knex } from "knex";

/** How long a row may outlive its call (a process killed mid-call leaves one behind). */
const STALE_AFTER = "1 day";

/**
 * The `mcp_calls` table's one owner: which run each person's in-flight tool call started,
 * by the call's JSON-RPC request id. A `notifications/cancelled` names only that id, and in
 * stateless mode it may reach another `serve` process than the one following the run.
 */
export class McpCalls {
  constructor(private readonly knex: Knex) {}

  async started(userId: string, requestId: string | number, runId: string): Promise<void> {
    await this.knex("mcp_calls").insert({
      run_id: runId,
      user_id: userId,
      request_key: JSON.stringify(requestId),
    });
  }

  async ended(runId: string): Promise<void> {
    await this.knex("mcp_calls").where({ run_id: runId }).delete();
  }

  /**
   * The run of the person's newest call with this request id. Ids are unique per client
   * connection only, so two of the person's clients may have used the same one: the newest
   * call is the likeliest one being cancelled, and either way it is the person's own run.
   */
  async runOf(userId: string, requestId: string | number): Promise<string | undefined> {
    await this.knex("mcp_calls")
      .where({ user_id: userId })
      .where("started_at", "<", this.knex.raw(`now() - interval '${STALE_AFTER}'`))
      .delete();
    const row = (await this.knex("mcp_calls")
      .where({ user_id: userId, request_key: JSON.stringify(requestId) })
      .orderBy("started_at", "desc")
      .first("run_id")) as { run_id: string } | undefined;
    return row?.run_id;
  }
}
