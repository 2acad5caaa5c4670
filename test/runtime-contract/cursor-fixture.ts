import { CursorRuntime } from "../../runtimes/cursor/index.js";
import { CursorAgentsWireDouble } from "../doubles/cursor-agents-wire.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";
import type { RuntimeFixture } from "./fixture.js";

const API_KEY = "key_cursor-contract-secret";

/**
 * Cursor's Cloud Agents API v1 through the adapter's undici client, against a local double
 * of its wire API: one Cursor agent per session, follow-up runs, the run's SSE stream.
 */
export async function cursorFixture(): Promise<RuntimeFixture> {
  const double = await CursorAgentsWireDouble.start({ apiKey: API_KEY });
  const runtime = new CursorRuntime({ egress: loopbackEgress, pollMs: 20 });
  const settings = {
    type: "cursor",
    repository: "https://github.com/acme/app",
    ref: "main",
    api_key: { env: "CONTRACT_CURSOR_API_KEY" },
    base_url: double.url,
    price_per_run_usd: 0.5,
  };
  return {
    name: "cursor",
    runtime,
    settings,
    invalidSettings: { ...settings, api_key: API_KEY },
    unreachableSettings: { ...settings, base_url: `http://127.0.0.1:${await freePort()}` },
    env: { CONTRACT_CURSOR_API_KEY: API_KEY },
    streams: true,
    reportsUsage: true,
    double,
    close: async () => {
      await runtime.close();
      await double.close();
    },
  };
}
