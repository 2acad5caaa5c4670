import { z } from "zod";
import { secretReference } from "../secrets.js";

/**
 * `spec.runtime` for an agent that speaks A2A. Only the URL is required: the agent card says
 * the rest (protocol version, transport, streaming), and the two overrides exist for agents
 * whose card is wrong or that misbehave on one of the paths.
 */
export const a2aSettings = z.strictObject({
  type: z.literal("a2a"),
  /** The agent's base URL (its card is then at /.well-known/agent-card.json) or its card's URL. */
  url: z
    .string({ error: "must be the agent's URL, e.g. https://agent.example.com" })
    .refine((value) => /^https?:\/\//i.test(value) && URL.canParse(value), {
      message: "must be an http:// or https:// URL: the agent's base URL or its agent card URL",
    }),
  /** Which A2A version to speak; by default the one the card offers (1.0 when it offers both). */
  protocol: z
    .enum(["1.0", "0.3"], { error: 'must be "1.0" or "0.3" (or left out to follow the card)' })
    .optional(),
  /** Headers sent with every call, e.g. Authorization; values are secret references. */
  headers: z
    .record(
      z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: "is not a valid header name" }),
      z.union(secretReference.options, {
        error: "must be a secret reference such as { env: NAME }, never the value itself",
      }),
      { error: "must map header names to secret references like { env: NAME }" },
    )
    .optional(),
  /** Stream answers; by default when the card's capabilities.streaming says the agent can. */
  streaming: z.boolean({ error: "must be true or false" }).optional(),
});

export type A2aSettings = z.output<typeof a2aSettings>;
