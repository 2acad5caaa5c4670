import { BedrockAgentCoreRuntime } from "../../runtimes/bedrock-agentcore/index.js";
import { AgentCoreRuntimeDouble } from "../doubles/agentcore-runtime.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";
import type { RuntimeFixture } from "./fixture.js";

export const AGENTCORE_ARN =
  "arn:aws:bedrock-agentcore:us-east-1:111122223333:runtime/contract_agent-a1B2c3D4e5";
const CREDENTIALS = {
  accessKeyId: "AKIACONTRACTDOUBLE01",
  secretAccessKey: "secret-agentcore-contract-key",
};

/** An agent on AgentCore Runtime, on a local double of its data plane; SSE or JSON answers. */
async function agentCoreFixtureFor(
  name: string,
  mode: "sse" | "json",
  forUser = false,
): Promise<RuntimeFixture> {
  const double = await AgentCoreRuntimeDouble.start({
    agentRuntimeArn: AGENTCORE_ARN,
    region: "us-east-1",
    credentials: CREDENTIALS,
    mode,
    mayInvokeForUser: forUser,
  });
  const runtime = new BedrockAgentCoreRuntime({ egress: loopbackEgress });
  const settings = {
    type: "bedrock-agentcore",
    agent_runtime_arn: AGENTCORE_ARN,
    region: "us-east-1",
    endpoint: double.url,
    credentials: {
      access_key_id: { env: "CONTRACT_AWS_ACCESS_KEY_ID" },
      secret_access_key: { env: "CONTRACT_AWS_SECRET_ACCESS_KEY" },
    },
    usd_per_second: 0.00003,
    timeout_seconds: 30,
    ...(forUser ? { send_runtime_user_id: true } : {}),
  };
  return {
    name,
    runtime,
    settings,
    invalidSettings: {
      type: "bedrock-agentcore",
      agent_runtime_arn: "support-agent",
      region: "us-east-1",
      usd_per_second: 0.00003,
    },
    unreachableSettings: { ...settings, endpoint: `http://127.0.0.1:${await freePort()}` },
    env: {
      CONTRACT_AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      CONTRACT_AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    },
    streams: mode === "sse",
    // AgentCore reports no tokens: its usage is compute time, booked as an estimated cost.
    reportsUsage: false,
    double,
    close: async () => {
      await runtime.close();
      await double.close();
    },
  };
}

export const agentCoreStreamingFixture = () =>
  agentCoreFixtureFor("bedrock-agentcore (SSE)", "sse");
export const agentCoreJsonFixture = () => agentCoreFixtureFor("bedrock-agentcore (JSON)", "json");
/** Streamed, sending each person's opaque id as runtimeUserId (credentials allowed to). */
export const agentCoreForUserFixture = () =>
  agentCoreFixtureFor("bedrock-agentcore (SSE, runtimeUserId)", "sse", true);
