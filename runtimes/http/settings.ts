import { z } from "zod";
import { type SecretReference, secretReference } from "../secrets.js";

/** An HTTP header name (RFC 9110 token): what a manifest may put in `headers` or `auth.header`. */
export const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be an HTTP header name, such as X-Api-Key");

/** A secret reference with a message an agent's owner can act on. */
export const secretSetting = z.custom<SecretReference>(
  (value) => secretReference.safeParse(value).success,
  "must be a secret reference, { env: NAME } or { secret: NAME }, never the value itself",
);

export const httpUrl = (what: string) =>
  z.url({ protocol: /^https?$/, error: `must be the http:// or https:// URL of ${what}` });

/** How long a turn may take, answer included; five minutes unless the manifest says. */
export const timeoutSeconds = z
  .number({ error: "must be a number of seconds" })
  .int("must be a whole number of seconds")
  .min(1, "must be at least 1 second")
  .max(3600, "must be at most 3600 seconds (an hour)")
  .default(300);

/**
 * `spec.runtime` for a home-grown agent behind the HTTP contract (CONTRACT.md next to this
 * file). Header values are secret references: a manifest is readable by everyone who may
 * view the agent.
 */
export const httpSettings = z.strictObject({
  type: z.literal("http"),
  url: httpUrl("the agent"),
  headers: z.record(headerName, secretSetting).optional(),
  timeout_seconds: timeoutSeconds,
});
export type HttpSettings = z.output<typeof httpSettings>;
