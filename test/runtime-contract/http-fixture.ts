import { HttpRuntime } from "../../runtimes/http/index.js";
import { HttpAgentDouble } from "../doubles/http-agent.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";
import type { RuntimeFixture } from "./fixture.js";

const API_KEY = "secret-agent-key";

/** A home-grown agent behind the HTTP contract, answering JSON or server-sent events. */
async function httpFixtureFor(name: string, stream: boolean): Promise<RuntimeFixture> {
  const double = await HttpAgentDouble.start({
    stream,
    requireHeaders: { "X-Api-Key": API_KEY },
  });
  const runtime = new HttpRuntime({ egress: loopbackEgress });
  const settings = {
    type: "http",
    url: double.url,
    headers: { "X-Api-Key": { env: "CONTRACT_HTTP_AGENT_KEY" } },
    timeout_seconds: 30,
  };
  return {
    name,
    runtime,
    settings,
    invalidSettings: {
      type: "http",
      url: "ftp://example.test/agent",
      headers: { "X-Api-Key": "plain" },
    },
    unreachableSettings: { ...settings, url: `http://127.0.0.1:${await freePort()}/agent` },
    env: { CONTRACT_HTTP_AGENT_KEY: API_KEY },
    streams: stream,
    reportsUsage: true,
    double,
    close: async () => {
      await runtime.close();
      await double.close();
    },
  };
}

export const httpFixture = () => httpFixtureFor("http (JSON)", false);
export const httpSseFixture = () => httpFixtureFor("http (server-sent events)", true);
