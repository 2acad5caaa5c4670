import { E2bRuntime } from "../../runtimes/index.js";
import { E2bApiDouble } from "../doubles/e2b-api.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";
import type { RuntimeFixture } from "./fixture.js";

const API_KEY = "e2b_contract-secret-7b1f";

/**
 * The contract agent as a `command` harness: a shell script in the sandbox that counts its
 * turns in a file of the sandbox (so a second turn in the same sandbox says turn 2) and
 * answers in two lines (two streamed deltas).
 */
export const E2B_CONTRACT_ARGV = [
  "sh",
  "-c",
  'n=$(( $(cat .turns 2>/dev/null || echo 0) + 1 )); echo "$n" > .turns; printf \'You said "%s"\\n\' "$1"; sleep 0.05; printf \'(turn %s)\\n\' "$n"',
  "agent",
  "{{input}}",
];

/** E2B through the real `e2b` SDK, against a local double of its API and of envd in each sandbox. */
export async function e2bFixture(): Promise<RuntimeFixture & { e2b: E2bApiDouble }> {
  const e2b = await E2bApiDouble.start({ apiKey: API_KEY });
  const runtime = new E2bRuntime({ egress: loopbackEgress });
  const settings = {
    type: "e2b",
    harness: "command",
    command: E2B_CONTRACT_ARGV,
    api_key: { env: "CONTRACT_E2B_API_KEY" },
    api_url: e2b.apiUrl,
    sandbox_url: e2b.sandboxUrl,
    price_per_vcpu_hour_usd: 0.05,
    price_per_gib_hour_usd: 0.01,
  };
  return {
    name: "e2b",
    runtime,
    settings,
    invalidSettings: { ...settings, api_key: API_KEY },
    unreachableSettings: { ...settings, api_url: `http://127.0.0.1:${await freePort()}` },
    env: { CONTRACT_E2B_API_KEY: API_KEY },
    streams: true,
    reportsUsage: false,
    e2b,
    double: {
      turns: () =>
        e2b.started.map(({ sandboxId, cmd }) => ({ runtimeSession: sandboxId, text: cmd })),
      forgetSessions: () => {
        for (const id of [...e2b.sandboxes.keys()]) e2b.forget(id);
      },
      failNextTurns: (count) => {
        e2b.failStarts = count;
      },
      holdTurns: () => e2b.hold(),
      releaseTurns: () => e2b.release(),
      cancellations: () => e2b.kills,
      unexpected: () => e2b.unexpectedRequests,
      reset: () => e2b.reset(),
    },
    close: async () => {
      await e2b.close();
    },
  };
}
