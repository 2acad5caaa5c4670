import { z } from "zod";
import { secretSetting, timeoutSeconds } from "../http/index.js";

/**
 * `spec.runtime` for an agent made in Elastic's Agent Builder (Kibana 9.2 and later),
 * driven through Kibana's converse API. The agent is made in Kibana; Switchboard only talks
 * to it, in the Kibana space the manifest names.
 */
export const elasticAgentBuilderSettings = z.strictObject({
  type: z.literal("elastic-agent-builder"),
  /** Kibana's address, without /s/<space> or /api. */
  kibana_url: z
    .url({
      protocol: /^https?$/,
      error:
        "must be the http(s) URL of Kibana, such as https://my-deployment.kb.us-east-1.aws.elastic.cloud (without /s/<space> or /api)",
    })
    .refine((url) => !URL.canParse(url) || !/\/(s\/[^/]+|api)(\/|$)/.test(new URL(url).pathname), {
      message:
        "must be Kibana's address alone: put the space in spec.runtime.space, not in the URL",
    }),
  /** The agent's id in Agent Builder (Agents → the agent's settings), e.g. elastic-ai-agent. */
  agent_id: z
    .string({ error: "must be the agent's id in Agent Builder, such as elastic-ai-agent" })
    .trim()
    .min(1, "must be the agent's id in Agent Builder, such as elastic-ai-agent"),
  /** The Kibana space the agent is in; the default space when absent. */
  space: z
    .string({ error: "must be a Kibana space id, such as marketing" })
    .regex(
      /^[a-z0-9_-]+$/,
      "must be a Kibana space id: lower-case letters, digits, _ and - (the id in the space's URL, /s/<id>)",
    )
    .optional(),
  /** A Kibana API key (its encoded form), as a reference; sent as `Authorization: ApiKey …`. */
  api_key: secretSetting,
  /** An LLM connector to use instead of the agent's default. */
  connector_id: z
    .string({ error: "must be the id of a Kibana AI connector" })
    .trim()
    .min(1, "must be the id of a Kibana AI connector")
    .optional(),
  /** How long one turn may take, the answer included; five minutes unless the manifest says. */
  timeout_seconds: timeoutSeconds,
});
export type ElasticAgentBuilderSettings = z.output<typeof elasticAgentBuilderSettings>;
