import { N8nRuntime } from "../../runtimes/n8n/index.js";
import { N8nWebhookDouble, type N8nWebhookOptions } from "../doubles/n8n-webhook.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";
import type { RuntimeFixture } from "./fixture.js";

const AUTH_HEADER = "X-N8N-Auth";
const AUTH_VALUE = "secret-n8n-header-value";

/**
 * An n8n workflow behind a Webhook trigger with header auth, on a local double of n8n's
 * webhook wire; one fixture per Respond option of the Webhook node.
 */
async function n8nFixtureFor(
  name: string,
  options: Omit<N8nWebhookOptions, "auth">,
  streams: boolean,
): Promise<RuntimeFixture> {
  const double = await N8nWebhookDouble.start({
    ...options,
    auth: { header: AUTH_HEADER, value: AUTH_VALUE },
  });
  const runtime = new N8nRuntime({ egress: loopbackEgress });
  const settings = {
    type: "n8n",
    webhook_url: double.url,
    response_mode: options.mode,
    auth: { header: AUTH_HEADER, value: { env: "CONTRACT_N8N_AUTH" } },
    timeout_seconds: 30,
  };
  return {
    name,
    runtime,
    settings,
    invalidSettings: { type: "n8n", webhook_url: "not a url", response_mode: "eventually" },
    unreachableSettings: {
      ...settings,
      webhook_url: `http://127.0.0.1:${await freePort()}/webhook/contract-agent`,
    },
    env: { CONTRACT_N8N_AUTH: AUTH_VALUE },
    streams,
    reportsUsage: false,
    double,
    close: async () => {
      await runtime.close();
      await double.close();
    },
  };
}

/** Webhook node set to respond when the last node finishes, with its first item as JSON. */
export const n8nFixture = () => n8nFixtureFor("n8n (last node)", { mode: "last_node" }, false);

/** Webhook node answered by a Respond to Webhook node sending JSON. */
export const n8nRespondFixture = () =>
  n8nFixtureFor("n8n (respond to webhook)", { mode: "respond_to_webhook" }, false);
