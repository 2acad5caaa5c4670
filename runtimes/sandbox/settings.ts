import { z } from "zod";
import { secretSetting } from "../http/index.js";
import { ENV_NAME } from "./shell.js";

/** Names the run's model proxy access takes: a manifest may not set them (no provider key enters). */
export const PROXY_ENV_NAMES = [
  "ANTHROPIC_BASE_URL",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "OPENAI_BASE_URL",
  "OPENAI_API_KEY",
] as const;

export const HARNESSES = ["opencode", "claude-code", "command"] as const;

/** The placeholders a `command` harness's argv may hold; `{{input}}` is required. */
export const PLACEHOLDERS = ["{{input}}", "{{session_id}}", "{{transcript_file}}"] as const;

const price = (what: string) =>
  z
    .number({
      error: `must be what ${what} of sandbox time costs you, in US dollars (e.g. 0.05); Switchboard books sandbox time as an estimate, since the vendor's API reports no price`,
    })
    .min(0, "must be 0 or more US dollars")
    .max(100, "must be at most 100 US dollars");

/**
 * The vendor-neutral part of `spec.runtime` for a sandbox runtime (`daytona`, `e2b`): what
 * runs inside (the harness), the sandbox's size and network, secrets as references, and the
 * price of sandbox time. Each vendor extends it with its own address and key.
 */
export const sandboxSettingsShape = {
  /** What runs inside: a preset that knows its CLI, or `command` with an argv template. */
  harness: z.enum(HARNESSES, {
    error: 'must be "opencode", "claude-code" or "command" (with `command`, an argv template)',
  }),
  /**
   * For `harness: command`: the argv, with "{{input}}" where the person's message goes, and
   * optionally "{{session_id}}" and "{{transcript_file}}". Each value is shell-quoted.
   */
  command: z
    .array(z.string({ error: "must be a list of strings (the argv)" }), {
      error: 'must be the argv as a list of strings, such as ["python", "agent.py", "{{input}}"]',
    })
    .min(1, "must name the program to run")
    .refine((argv) => argv.some((word) => word.includes("{{input}}")), {
      message: 'must contain "{{input}}" where the person\'s message goes',
    })
    .optional(),
  /** For the presets: the model the harness asks for (through the model proxy). */
  model: z
    .string({ error: "must be a model name, such as claude-sonnet-4-5" })
    .trim()
    .min(1, "must be a model name, such as claude-sonnet-4-5")
    .optional(),
  /** The working directory inside the sandbox; the sandbox user's home when absent. */
  workdir: z
    .string({ error: "must be a path inside the sandbox" })
    .regex(/^[^\0\n]+$/, "must be a path inside the sandbox")
    .optional(),
  /**
   * Environment variables for the harness, each a secret reference, resolved every turn and
   * given to that turn's process only (never stored on the sandbox).
   */
  env: z
    .record(z.string(), secretSetting, {
      error: "must map environment variable names to secret references",
    })
    .superRefine((map, ctx) => {
      for (const name of Object.keys(map)) {
        if (!ENV_NAME.test(name)) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: "must be an environment variable name (letters, digits, _)",
          });
        } else if ((PROXY_ENV_NAMES as readonly string[]).includes(name)) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message:
              "is set by Switchboard to the run's model proxy key and address; a provider key may not enter a sandbox",
          });
        }
      }
    })
    .optional(),
  /** The vendor's template (E2B) or snapshot (Daytona); the vendor's default when absent. */
  template: z
    .string({ error: "must be the name or id of a template or snapshot" })
    .trim()
    .min(1, "must be the name or id of a template or snapshot")
    .optional(),
  cpu: z
    .number({ error: "must be a number of vCPUs" })
    .int("must be a whole number of vCPUs")
    .min(1, "must be at least 1 vCPU")
    .max(64, "must be at most 64 vCPUs")
    .optional(),
  memory_gib: z
    .number({ error: "must be memory in GiB" })
    .int("must be a whole number of GiB")
    .min(1, "must be at least 1 GiB")
    .max(256, "must be at most 256 GiB")
    .optional(),
  disk_gib: z
    .number({ error: "must be disk size in GiB" })
    .int("must be a whole number of GiB")
    .min(1, "must be at least 1 GiB")
    .max(1024, "must be at most 1024 GiB")
    .optional(),
  /** Outbound network from the sandbox, where the vendor takes it. */
  network: z
    .strictObject(
      {
        block_all: z.boolean({ error: "must be true or false" }).optional(),
        allow_out: z
          .array(z.string().min(1), { error: "must be a list of addresses (CIDR) or host names" })
          .max(50, "must list at most 50 entries")
          .optional(),
      },
      { error: "must be { block_all: true } or { allow_out: [CIDRs or hosts] }" },
    )
    .optional(),
  /**
   * The vendor's own idle limit (Daytona auto-stop, E2B timeout), a backstop should
   * Switchboard fail to stop it after a turn.
   */
  auto_stop_minutes: z
    .number({ error: "must be a number of minutes" })
    .int("must be a whole number of minutes")
    .min(1, "must be at least 1 minute")
    .max(1440, "must be at most 1440 minutes (a day)")
    .default(15),
  /** Sandbox time is booked per running second, by size, as an estimate. */
  price_per_vcpu_hour_usd: price("one vCPU-hour"),
  price_per_gib_hour_usd: price("one GiB-hour of memory"),
};

const base = z.object(sandboxSettingsShape);
export type SandboxSettings = z.output<typeof base> & { type: string };

/** The checks across fields: a `command` harness needs its argv, presets take none. */
export function checkHarness(settings: SandboxSettings, ctx: z.RefinementCtx): void {
  if (settings.harness === "command" && !settings.command) {
    ctx.addIssue({
      code: "custom",
      path: ["command"],
      message:
        'is required with harness "command": the argv, such as ["python", "agent.py", "{{input}}"]',
    });
  }
  if (settings.harness !== "command" && settings.command) {
    ctx.addIssue({
      code: "custom",
      path: ["command"],
      message: `is only for harness "command"; the ${settings.harness} preset knows its own command line`,
    });
  }
}
