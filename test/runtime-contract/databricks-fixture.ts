import { DatabricksRuntime } from "../../runtimes/databricks/index.js";
import { DatabricksWorkspaceDouble } from "../doubles/databricks-serving.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";
import type { RuntimeFixture } from "./fixture.js";

const TOKEN = "dapi-secret-contract-token";
const OAUTH = { clientId: "6f0e-contract-sp", clientSecret: "dose-secret-contract-oauth" };

/**
 * An agent on a Databricks Model Serving endpoint, on a local double of the workspace:
 * streamed with a personal access token, or answered whole with OAuth M2M.
 */
async function databricksFixtureFor(name: string, streams: boolean): Promise<RuntimeFixture> {
  const double = await DatabricksWorkspaceDouble.start({
    endpoint: "contract-agent",
    token: TOKEN,
    oauth: OAUTH,
  });
  const runtime = new DatabricksRuntime({ egress: loopbackEgress });
  const auth = streams
    ? { token: { env: "CONTRACT_DATABRICKS_TOKEN" } }
    : { client_id: OAUTH.clientId, client_secret: { env: "CONTRACT_DATABRICKS_SECRET" } };
  const settings = {
    type: "databricks",
    workspace_url: double.url,
    endpoint: "contract-agent",
    auth,
    stream: streams,
    timeout_seconds: 30,
  };
  return {
    name,
    runtime,
    settings,
    invalidSettings: {
      type: "databricks",
      workspace_url: "dbc-1234",
      auth: { token: "dapi-plain" },
    },
    unreachableSettings: { ...settings, workspace_url: `http://127.0.0.1:${await freePort()}` },
    env: { CONTRACT_DATABRICKS_TOKEN: TOKEN, CONTRACT_DATABRICKS_SECRET: OAUTH.clientSecret },
    streams,
    reportsUsage: true,
    double,
    close: async () => {
      await runtime.close();
      await double.close();
    },
  };
}

export const databricksStreamingFixture = () =>
  databricksFixtureFor("databricks (streaming, token)", true);
export const databricksOAuthFixture = () =>
  databricksFixtureFor("databricks (whole answers, OAuth M2M)", false);
