import { A2aRuntime } from "../../runtimes/a2a/index.js";
import { A2aAgentDouble, type A2aAgentOptions } from "../doubles/a2a-agent.js";
import { loopbackEgress } from "../support/egress.js";
import type { RuntimeFixture } from "./fixture.js";

async function fixture(name: string, options: A2aAgentOptions): Promise<RuntimeFixture> {
  const double = await A2aAgentDouble.start(options);
  const runtime = new A2aRuntime({ pollIntervalMs: 20, egress: loopbackEgress });
  return {
    name,
    runtime,
    settings: {
      type: "a2a",
      url: double.url,
      headers: { Authorization: { env: "A2A_CONTRACT_TOKEN" } },
    },
    invalidSettings: { type: "a2a", url: "agent.example.com", protocol: "2.0" },
    // Port 9 (discard) on loopback: nothing listens there.
    unreachableSettings: { type: "a2a", url: "http://127.0.0.1:9" },
    env: { A2A_CONTRACT_TOKEN: "Bearer secret-contract-token" },
    streams: options.streaming,
    reportsUsage: false,
    double,
    close: async () => {
      await runtime.close();
      await double.close();
    },
  };
}

/** An A2A 1.0 agent whose card offers streaming: turns go over SendStreamingMessage. */
export const a2aFixture = () =>
  fixture("a2a (1.0, streaming)", {
    protocol: "1.0",
    streaming: true,
    authorization: "Bearer secret-contract-token",
  });

/** An A2A 0.3 agent without streaming: turns go over message/send and tasks/get. */
export const a2aV03Fixture = () =>
  fixture("a2a (0.3, message/send)", {
    protocol: "0.3",
    streaming: false,
    authorization: "Bearer secret-contract-token",
  });
