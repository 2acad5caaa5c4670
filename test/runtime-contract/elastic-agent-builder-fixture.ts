import { ElasticAgentBuilderRuntime } from "../../runtimes/elastic-agent-builder/index.js";
import { AgentBuilderWireDouble } from "../doubles/agent-builder-wire.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";
import type { RuntimeFixture } from "./fixture.js";

const API_KEY = "ZWxhc3RpYy1jb250cmFjdC1zZWNyZXQ=";

/** An Agent Builder agent in a Kibana space, on a local double of the converse/async wire. */
export async function elasticAgentBuilderFixture(): Promise<RuntimeFixture> {
  const double = await AgentBuilderWireDouble.start({
    apiKey: API_KEY,
    agents: { support: ["contract-agent"] },
  });
  const runtime = new ElasticAgentBuilderRuntime({ egress: loopbackEgress });
  const settings = {
    type: "elastic-agent-builder",
    kibana_url: double.url,
    agent_id: "contract-agent",
    space: "support",
    api_key: { env: "CONTRACT_KIBANA_API_KEY" },
    timeout_seconds: 30,
  };
  return {
    name: "elastic-agent-builder",
    runtime,
    settings,
    invalidSettings: { ...settings, kibana_url: `${double.url}/s/support` },
    unreachableSettings: { ...settings, kibana_url: `http://127.0.0.1:${await freePort()}` },
    env: { CONTRACT_KIBANA_API_KEY: API_KEY },
    streams: true,
    reportsUsage: true,
    double,
    close: async () => {
      await runtime.close();
      await double.close();
    },
  };
}
