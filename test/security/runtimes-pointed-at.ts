/**
 * `spec.runtime` for each runtime that makes HTTP calls, pointed at `address` (a base URL
 * without a trailing slash): what an agent's owner writes to aim an agent somewhere.
 * Managed Agents names its agent and environment by id, so its first call opens a session.
 */
export const RUNTIMES_POINTED_AT: Record<string, (address: string) => Record<string, unknown>> = {
  http: (address) => ({ type: "http", url: `${address}/agent` }),
  n8n: (address) => ({ type: "n8n", webhook_url: `${address}/webhook/agent` }),
  a2a: (address) => ({ type: "a2a", url: address }),
  "claude-managed-agents": (address) => ({
    type: "claude-managed-agents",
    agent: "agent_egress",
    environment: "env_egress",
    api_key: { env: "EGRESS_TEST_API_KEY" },
    base_url: address,
  }),
  databricks: (address) => ({
    type: "databricks",
    workspace_url: address,
    endpoint: "egress-agent",
    auth: { token: { env: "EGRESS_TEST_DATABRICKS_TOKEN" } },
  }),
};

/** The environment the settings above read their secret from. */
export const POINTED_AT_ENV = {
  EGRESS_TEST_API_KEY: "sk-ant-egress-test",
  EGRESS_TEST_DATABRICKS_TOKEN: "dapi-egress-test",
  EGRESS_TEST_DATABRICKS_SECRET: "dose-egress-test",
};

/** Runtimes whose SDKs follow redirects (through the checked dialer); the others never do. */
export const FOLLOWS_REDIRECTS = new Set(["a2a", "claude-managed-agents"]);
