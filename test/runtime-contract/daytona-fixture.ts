import { DaytonaRuntime } from "../../runtimes/index.js";
import { DaytonaApiDouble } from "../doubles/daytona-api.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";
import type { RuntimeFixture } from "./fixture.js";

const API_KEY = "dtn_daytona-contract-secret";

/**
 * The contract agent as a `command` harness: a shell script in the sandbox that counts its
 * turns in a file of the sandbox (so a second turn in the same sandbox says turn 2) and
 * answers in two lines (two streamed deltas), then a JSON outcome line.
 */
export const CONTRACT_AGENT_ARGV = [
  "sh",
  "-c",
  'n=$(( $(cat .turns 2>/dev/null || echo 0) + 1 )); echo "$n" > .turns; printf \'You said "%s"\\n\' "$1"; sleep 0.05; printf \'(turn %s)\\n\' "$n"',
  "agent",
  "{{input}}",
];

/** Daytona through the real `@daytonaio/sdk`, against a local double of its REST API and toolbox. */
export async function daytonaFixture(): Promise<RuntimeFixture & { daytona: DaytonaApiDouble }> {
  const daytona = await DaytonaApiDouble.start({ apiKey: API_KEY });
  const runtime = new DaytonaRuntime({ egress: loopbackEgress });
  const settings = {
    type: "daytona",
    harness: "command",
    command: CONTRACT_AGENT_ARGV,
    api_key: { env: "CONTRACT_DAYTONA_API_KEY" },
    api_url: daytona.url,
    price_per_vcpu_hour_usd: 0.05,
    price_per_gib_hour_usd: 0.01,
  };
  return {
    name: "daytona",
    runtime,
    settings,
    invalidSettings: { ...settings, api_key: API_KEY },
    unreachableSettings: { ...settings, api_url: `http://127.0.0.1:${await freePort()}/api` },
    env: { CONTRACT_DAYTONA_API_KEY: API_KEY },
    streams: true,
    reportsUsage: false,
    daytona,
    double: {
      turns: () =>
        daytona.commands.map((command) => ({
          runtimeSession: command.sandboxId,
          text: command.command,
        })),
      forgetSessions: () => daytona.expireAll(),
      failNextTurns: (count) => daytona.failNextExecs(count),
      holdTurns: () => daytona.hold(),
      releaseTurns: () => daytona.release(),
      cancellations: () => daytona.kills(),
      unexpected: () => daytona.unexpected(),
      reset: () => daytona.reset(),
    },
    close: async () => {
      await daytona.close();
    },
  };
}
