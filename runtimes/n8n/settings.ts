import { z } from "zod";
import { headerName, httpUrl, secretSetting, timeoutSeconds } from "../http/index.js";

/**
 * `spec.runtime` for an n8n workflow behind a Webhook trigger (its production URL,
 * /webhook/..., which runs only while the workflow is active). `response_mode` must match
 * the Webhook node's "Respond" option; `auth` matches a Header Auth credential on it.
 */
export const n8nSettings = z.strictObject({
  type: z.literal("n8n"),
  webhook_url: httpUrl("the workflow's Webhook node (its production URL)"),
  response_mode: z
    .enum(["last_node", "respond_to_webhook", "streaming"], {
      error:
        'must be "last_node", "respond_to_webhook" or "streaming", as the Webhook node\'s Respond option',
    })
    .default("last_node"),
  auth: z
    .strictObject({
      header: headerName,
      value: secretSetting,
    })
    .optional(),
  timeout_seconds: timeoutSeconds,
});
export type N8nSettings = z.output<typeof n8nSettings>;
