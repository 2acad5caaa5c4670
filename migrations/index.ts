import type { Knex } from "knex";
import * as initial from "./20261124_0001_initial.js";
import * as directory from "./20261124_0200_directory.js";
import * as proxy from "./20261124_0300_proxy.js";
import * as runs from "./20261124_0400_runs.js";
import * as chat from "./20261124_0500_chat.js";
import * as secrets from "./20261205_0100_secrets.js";
import * as agentNames from "./20261205_0200_agent_names.js";
import * as siteSessions from "./20261205_0300_site_sessions.js";
import * as featuredAgents from "./20261205_0400_featured_agents.js";
import * as runLimits from "./20261205_0500_run_limits.js";
import * as budgets from "./20261206_0300_budgets.js";
import * as approvals from "./20261206_0400_approvals.js";
import * as spendIndexes from "./20261206_0500_spend_indexes.js";
import * as teamMemberships from "./20261206_0600_team_memberships.js";
import * as spendDaily from "./20261206_0700_spend_daily.js";
import * as accessRequests from "./20261206_0800_access_requests.js";
import * as spendTotals from "./20261206_0900_spend_totals.js";
import * as scimLookups from "./20261206_0910_scim_lookups.js";
import * as personIdKey from "./20261206_0920_person_id_key.js";
import * as backgroundLeases from "./20261206_1000_background_leases.js";
import * as mcpCalls from "./20261206_1015_mcp_calls.js";
import * as chatReplyFailures from "./20261207_0900_chat_reply_failures.js";

export interface Migration {
  /** Recorded in the migrations table; never rename one that has landed. */
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Every migration, oldest first. Append-only: add a new file and list it last; never edit
 * or reorder one that has landed. The list is explicit (not a folder scan) so the same
 * migrations run from TypeScript sources and from the compiled build.
 */
export const migrations: readonly Migration[] = [
  { name: "20261124_0001_initial", ...initial },
  { name: "20261124_0200_directory", ...directory },
  { name: "20261124_0300_proxy", ...proxy },
  { name: "20261124_0400_runs", ...runs },
  { name: "20261124_0500_chat", ...chat },
  { name: "20261205_0100_secrets", ...secrets },
  { name: "20261205_0200_agent_names", ...agentNames },
  { name: "20261205_0300_site_sessions", ...siteSessions },
  { name: "20261205_0400_featured_agents", ...featuredAgents },
  { name: "20261205_0500_run_limits", ...runLimits },
  { name: "20261206_0300_budgets", ...budgets },
  { name: "20261206_0400_approvals", ...approvals },
  { name: "20261206_0500_spend_indexes", ...spendIndexes },
  { name: "20261206_0600_team_memberships", ...teamMemberships },
  { name: "20261206_0700_spend_daily", ...spendDaily },
  { name: "20261206_0800_access_requests", ...accessRequests },
  { name: "20261206_0900_spend_totals", ...spendTotals },
  { name: "20261206_0910_scim_lookups", ...scimLookups },
  { name: "20261206_0920_person_id_key", ...personIdKey },
  { name: "20261206_1000_background_leases", ...backgroundLeases },
  { name: "20261206_1015_mcp_calls", ...mcpCalls },
  { name: "20261207_0900_chat_reply_failures", ...chatReplyFailures },
];
