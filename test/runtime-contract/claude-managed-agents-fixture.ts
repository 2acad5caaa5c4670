import { ClaudeManagedAgentsRuntime } from "../../runtimes/claude-managed-agents/index.js";
import { ManagedAgentsWireDouble } from "../doubles/managed-agents-wire.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";
import type { RuntimeFixture } from "./fixture.js";

const API_KEY = "sk-ant-contract-key";

/**
 * Claude Managed Agents through `@anthropic-ai/sdk`, against a local double of its wire
 * API. The settings name the agent and the environment (not their ids), so every turn also
 * goes through the name lookup.
 */
export async function claudeManagedAgentsFixture(): Promise<RuntimeFixture> {
  const double = await ManagedAgentsWireDouble.start({ apiKey: API_KEY });
  const runtime = new ClaudeManagedAgentsRuntime({ egress: loopbackEgress });
  const settings = {
    type: "claude-managed-agents",
    agent: "contract-agent",
    environment: "contract-env",
    api_key: { env: "CONTRACT_ANTHROPIC_API_KEY" },
    base_url: double.url,
  };
  return {
    name: "claude-managed-agents",
    runtime,
    settings,
    invalidSettings: { ...settings, api_key: API_KEY },
    unreachableSettings: { ...settings, base_url: `http://127.0.0.1:${await freePort()}` },
    env: { CONTRACT_ANTHROPIC_API_KEY: API_KEY },
    streams: true,
    reportsUsage: true,
    double,
    close: async () => {
      await runtime.close();
      await double.close();
    },
  };
}
