import { z } from "zod";
import { httpUrl, secretSetting, timeoutSeconds } from "../http/index.js";

const TOKEN_PRICES =
  "must be { input_per_million_usd, output_per_million_usd }: the USD price of a million input and output tokens";

/** A personal access token (`dapi…`) of the user or service principal the agent runs as. */
const tokenAuth = z.strictObject({ token: secretSetting });

/**
 * OAuth machine-to-machine: a service principal's client id and secret, exchanged at the
 * workspace's `/oidc/v1/token` for an hour-long access token. The id names the principal
 * (not a secret, but it may be a reference too); the secret is a reference.
 */
const oauthAuth = z.strictObject({
  client_id: z.union([z.string().trim().min(1), secretSetting], {
    error: "must be the service principal's client id (its application id), or a reference to it",
  }),
  client_secret: secretSetting,
});

/**
 * `spec.runtime` for an agent on Databricks: an agent served by a Model Serving endpoint
 * (`endpoint`, the endpoint's name in the workspace) or an agent on Databricks Apps
 * (`app_url`, the app's URL; it answers the Responses API at `/responses` and takes OAuth
 * tokens only). Either way the agent speaks MLflow's ResponsesAgent schema.
 */
export const databricksSettings = z
  .strictObject({
    type: z.literal("databricks"),
    workspace_url: httpUrl(
      "the Databricks workspace, such as https://dbc-1234abcd-5678.cloud.databricks.com",
    ),
    endpoint: z
      .string({ error: "must be the serving endpoint's name, as on the workspace's Serving page" })
      .regex(
        /^[A-Za-z0-9_-]{1,63}$/,
        "must be the serving endpoint's name: letters, digits, - and _, at most 63 characters",
      )
      .optional(),
    app_url: httpUrl(
      "the Databricks app that serves the agent, such as https://my-agent-1234.aws.databricksapps.com",
    ).optional(),
    auth: z.union([tokenAuth, oauthAuth], {
      error:
        "must be { token: <reference> } for a personal access token, or { client_id, client_secret: <reference> } for a service principal's OAuth credentials",
    }),
    /** Read the answer as it is written (`stream: true` on the request). */
    stream: z.boolean({ error: "must be true or false" }).default(true),
    /**
     * Who keeps the conversation: `thread` (the agent's own memory, keyed by the
     * `custom_inputs.thread_id` Switchboard sends) or `transcript` (a stateless agent:
     * every turn sends the conversation so far as `input` messages).
     */
    memory: z
      .enum(["thread", "transcript"], {
        error:
          'must be "thread" (the agent remembers by custom_inputs.thread_id) or "transcript" (Switchboard sends the conversation each turn)',
      })
      .default("thread"),
    /**
     * What the agent's tokens cost, in USD per million: Databricks bills serving by its own
     * meter and responses carry no price, so with these each turn's reported tokens are
     * booked at this price, marked as an estimate; without them, tokens with no cost.
     */
    token_prices: z
      .strictObject(
        {
          input_per_million_usd: z
            .number({ error: TOKEN_PRICES })
            .nonnegative("must be 0 or more (USD per million input tokens)"),
          output_per_million_usd: z
            .number({ error: TOKEN_PRICES })
            .nonnegative("must be 0 or more (USD per million output tokens)"),
        },
        { error: TOKEN_PRICES },
      )
      .optional(),
    timeout_seconds: timeoutSeconds,
  })
  .superRefine((settings, ctx) => {
    if ((settings.endpoint === undefined) === (settings.app_url === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["endpoint"],
        message:
          "name either a Model Serving endpoint (endpoint) or a Databricks app (app_url), one of the two",
      });
    }
    if (settings.app_url !== undefined && "token" in settings.auth) {
      ctx.addIssue({
        code: "custom",
        path: ["auth"],
        message:
          "must be a service principal's { client_id, client_secret } for an agent on Databricks Apps: apps do not accept personal access tokens",
      });
    }
  });
export type DatabricksSettings = z.output<typeof databricksSettings>;
