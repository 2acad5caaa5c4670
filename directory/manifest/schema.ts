import { z } from "zod";
import { MAX_RUN_TIMEOUT_SECONDS, RUN_TIMEOUT_RULE } from "../../core/index.js";
import { findInlineSecrets } from "./secret-references.js";

/**
 * The agent manifest (`apiVersion: switchboard/v1`, `kind: Agent`): the one source of truth
 * for what a manifest may say. The JSON Schema served by the API and the TypeScript types
 * are both made from it; the error messages here are the ones a person reads.
 */

export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const EMAIL = /^[^\s@:]+@[^\s@]+\.[^\s@]+$/;
const TEAM_SUBJECT = /^team:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const slugMessage = "must be a slug: lower-case letters, digits and hyphens, e.g. triage-bot";

const TITLE_MAX = 120;
const DESCRIPTION_MAX = 4000;
/** Each check carries its own words: a schema-wide message would say "is required" for all. */
const tooLong = (max: number) => `is too long: at most ${max} characters`;

export const agentName = z.string({ error: "must be a slug" }).regex(SLUG, { error: slugMessage });

function isUserSubject(value: string): boolean {
  return value.startsWith("user:") && EMAIL.test(value.slice("user:".length));
}

/** Who owns an agent: a team, or one person. */
export const ownerReference = z
  .string({ error: "must be team:SLUG or user:EMAIL" })
  .refine((value) => TEAM_SUBJECT.test(value) || isUserSubject(value), {
    error: "must be team:SLUG or user:EMAIL",
  });

/** Who may view or run it: a person, a team's members, or everyone. */
export const accessSubject = z
  .string({ error: "must be user:EMAIL, team:SLUG or user:*" })
  .refine((value) => value === "user:*" || TEAM_SUBJECT.test(value) || isUserSubject(value), {
    error: "must be user:EMAIL, team:SLUG or user:*",
  });

export const LIFECYCLES = ["experimental", "production", "deprecated"] as const;

const link = z.strictObject({
  title: z.string().min(1, { error: "must not be empty" }),
  url: z.url({ error: "must be a URL" }),
});

const contact = z.strictObject({
  name: z.string().optional(),
  email: z.email({ error: "must be an email address" }).optional(),
  slack: z.string().optional().describe("a Slack channel or handle, e.g. #platform-help"),
});

const metadata = z.strictObject({
  name: agentName.describe("Stable slug: the agent's id in URLs, Slack and the API."),
  title: z
    .string({ error: "must be text" })
    .min(1, { error: "must not be empty" })
    .max(TITLE_MAX, { error: tooLong(TITLE_MAX) }),
  description: z
    .string({ error: "must be text" })
    .max(DESCRIPTION_MAX, { error: tooLong(DESCRIPTION_MAX) })
    .default(""),
  owner: ownerReference.describe("team:SLUG or user:EMAIL"),
  tags: z
    .array(z.string().regex(SLUG, { error: "must be a slug, e.g. support" }))
    .max(20, { error: "are too many: at most 20 tags" })
    .default([]),
  lifecycle: z
    .enum(LIFECYCLES, { error: "must be experimental, production or deprecated" })
    .default("experimental"),
  icon: z.string().optional().describe("An emoji or an image URL."),
  links: z.array(link).default([]),
  contacts: z.array(contact).default([]),
});

/**
 * The runtime's own settings stay an open object here: each runtime adapter validates its
 * own. Only the secret rule (see secret-references.ts) is enforced for every runtime.
 */
const runtime = z
  .looseObject({
    type: z
      .string({ error: "is required" })
      .regex(SLUG, { error: "must be a runtime type, e.g. a2a" }),
  })
  .superRefine((settings, ctx) => {
    for (const secret of findInlineSecrets(settings)) {
      ctx.addIssue({ code: "custom", path: secret.path, message: secret.message });
    }
  })
  .describe(
    "The runtime type and its settings; secrets only as { secret: NAME } (the secret store, granted to this agent) or { env: NAME } (a name the operator allows).",
  );

const skill = z.strictObject({
  name: z.string({ error: "is required" }).min(1, { error: "must not be empty" }),
  description: z.string().default(""),
  examples: z.array(z.string()).default([]).describe("Example prompts shown to people."),
});

const access = z.strictObject({
  view: z.array(accessSubject).default([]),
  run: z.array(accessSubject).default([]),
});

/** The bound is the engine's (core's MAX_RUN_TIMEOUT_SECONDS); a person reads it here first. */
const timeoutMessage = `must be ${RUN_TIMEOUT_RULE}`;

const limits = z.strictObject({
  max_cost_usd_per_run: z
    .number({ error: "must be a number of dollars, e.g. 0.5" })
    .positive({ error: "must be more than 0 (dollars, e.g. 0.5)" })
    .optional(),
  timeout_seconds: z
    .number({ error: timeoutMessage })
    .int({ error: timeoutMessage })
    .positive({ error: timeoutMessage })
    .max(MAX_RUN_TIMEOUT_SECONDS, { error: timeoutMessage })
    .optional(),
});

const spec = z.strictObject({
  runtime,
  skills: z.array(skill).default([]),
  access: access.default({ view: [], run: [] }),
  limits: limits.optional(),
});

export const agentManifestSchema = z
  .strictObject({
    apiVersion: z.literal("switchboard/v1", { error: "must be switchboard/v1" }),
    kind: z.literal("Agent", { error: "must be Agent" }),
    metadata,
    spec,
  })
  .describe("A Switchboard agent manifest.");

/** A manifest as validated, defaults filled in. */
export type AgentManifest = z.output<typeof agentManifestSchema>;
/** A manifest as written (defaults optional). */
export type AgentManifestInput = z.input<typeof agentManifestSchema>;
export type Lifecycle = (typeof LIFECYCLES)[number];
