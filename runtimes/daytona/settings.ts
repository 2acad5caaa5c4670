import { z } from "zod";
import { secretSetting } from "../http/index.js";
import { checkHarness, sandboxSettingsShape } from "../sandbox/index.js";

/**
 * `spec.runtime` for an agent in a Daytona sandbox: the vendor-neutral sandbox settings
 * (harness, size, network, secrets, price) plus Daytona's API address, key and target.
 */
export const daytonaSettings = z
  .strictObject({
    type: z.literal("daytona"),
    ...sandboxSettingsShape,
    /** A Daytona API key, as a reference: never the value. */
    api_key: secretSetting,
    /** Daytona's API address; its cloud's when absent (a self-hosted Daytona's otherwise). */
    api_url: z
      .url({
        protocol: /^https?$/,
        error: "must be the http(s) URL of Daytona's API, such as https://app.daytona.io/api",
      })
      .default("https://app.daytona.io/api"),
    /** The region sandboxes are created in (`us`, `eu`); the organization's default when absent. */
    target: z
      .string({ error: "must be a Daytona target (region), such as us or eu" })
      .regex(/^[a-z0-9-]{1,40}$/, "must be a Daytona target (region), such as us or eu")
      .optional(),
  })
  .superRefine(checkHarness);

export type DaytonaSettings = z.output<typeof daytonaSettings>;
