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
  "bedrock-agentcore": (address) => ({
    type: "bedrock-agentcore",
    agent_runtime_arn:
      "arn:aws:bedrock-agentcore:us-east-1:111122223333:runtime/egress_agent-a1B2c3D4e5",
    region: "us-east-1",
    endpoint: address,
    credentials: {
      access_key_id: { env: "EGRESS_TEST_AWS_ACCESS_KEY_ID" },
      secret_access_key: { env: "EGRESS_TEST_AWS_SECRET_ACCESS_KEY" },
    },
    usd_per_second: 0.00003,
  }),
  // Its first call creates an agent at base_url (the repository is only named to Cursor).
  cursor: (address) => ({
    type: "cursor",
    repository: "https://github.com/acme/app",
    api_key: { env: "EGRESS_TEST_API_KEY" },
    base_url: address,
    price_per_run_usd: 0.5,
  }),
  // Its first call creates a sandbox through Daytona's API at api_url.
  daytona: (address) => ({
    type: "daytona",
    harness: "command",
    command: ["echo", "{{input}}"],
    api_key: { env: "EGRESS_TEST_API_KEY" },
    api_url: `${address}/api`,
    price_per_vcpu_hour_usd: 0.05,
    price_per_gib_hour_usd: 0.01,
  }),
  // Its first call creates a sandbox at api_url; envd would be reached at sandbox_url.
  e2b: (address) => ({
    type: "e2b",
    harness: "command",
    command: ["echo", "{{input}}"],
    api_key: { env: "EGRESS_TEST_API_KEY" },
    api_url: address,
    sandbox_url: address,
    price_per_vcpu_hour_usd: 0.05,
    price_per_gib_hour_usd: 0.01,
  }),
  "elastic-agent-builder": (address) => ({
    type: "elastic-agent-builder",
    kibana_url: address,
    agent_id: "elastic-ai-agent",
    api_key: { env: "EGRESS_TEST_API_KEY" },
  }),
};

/** The environment the settings above read their secret from. */
export const POINTED_AT_ENV = {
  EGRESS_TEST_API_KEY: "sk-ant-egress-test",
  EGRESS_TEST_DATABRICKS_TOKEN: "dapi-egress-test",
  EGRESS_TEST_DATABRICKS_SECRET: "dose-egress-test",
  EGRESS_TEST_AWS_ACCESS_KEY_ID: "AKIAEGRESSTEST000001",
  EGRESS_TEST_AWS_SECRET_ACCESS_KEY: "aws-secret-egress-test",
};

/** Runtimes whose SDKs follow redirects (through the checked dialer); the others never do. */
export const FOLLOWS_REDIRECTS = new Set(["a2a", "claude-managed-agents", "bedrock-agentcore"]);
