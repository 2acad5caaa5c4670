import { z } from "zod";
import { secretSetting } from "../http/index.js";

const httpsOrHttp = (what: string) =>
  z.url({ protocol: /^https?$/, error: `must be the http:// or https:// URL of ${what}` });

/**
 * The E2B parts of an agent's `spec.runtime` (type `e2b`): where E2B is and with which key,
 * and what sandbox each session gets. The harness that runs inside (and its own settings)
 * belongs to the vendor-neutral sandbox runtime; these fields sit beside it.
 *
 * E2B sizes a sandbox by its template (CPU and memory are fixed when the template is
 * built, `e2b template build --cpu-count --memory-mb`); `Sandbox.create` takes no size, so
 * `cpu` and `memory_mb` are refused here with that explained.
 */
export const e2bSettingsShape = {
  /** The E2B API key (`e2b_…`), as a reference: a manifest is readable by everyone who may view the agent. */
  api_key: secretSetting,
  /** E2B's control-plane API; `https://api.<domain>` when absent. For a self-hosted E2B or a test double. */
  api_url: httpsOrHttp("E2B's API, such as https://api.e2b.app").optional(),
  /** E2B's domain, for a self-hosted deployment (sandboxes at `49983-<id>.<domain>`); `e2b.app` when absent. */
  domain: z
    .string({ error: "must be E2B's domain, such as e2b.app" })
    .trim()
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, "must be a domain name, such as e2b.app")
    .optional(),
  /** Where the SDK reaches every sandbox's envd (E2B_SANDBOX_URL); derived from the domain when absent. */
  sandbox_url: httpsOrHttp("the sandboxes' envd endpoint").optional(),
  /** The template (id or name) each session's sandbox is created from; E2B's `base` when absent. */
  template: z
    .string({ error: "must be an E2B template id or name, such as base" })
    .trim()
    .min(1, "must be an E2B template id or name, such as base")
    .default("base"),
  /**
   * E2B's own time to live for a running sandbox, renewed at every turn: the backstop that
   * kills a sandbox a dead worker left running. Must outlast the longest turn.
   */
  timeout_seconds: z
    .number({ error: "must be a number of seconds" })
    .int("must be a whole number of seconds")
    .min(60, "must be at least 60 seconds")
    .max(86_400, "must be at most 86400 seconds (E2B's 24-hour limit)")
    .default(3600),
  /**
   * Outbound network from inside the sandbox: `false` blocks all of it, a list of hosts,
   * IPs or CIDR ranges allows only those (Switchboard's model proxy must be on it for the
   * harness to reach its model), absent leaves E2B's default (open).
   */
  internet: z
    .union([z.literal(false), z.array(z.string().trim().min(1)).min(1)], {
      error:
        'must be false (no outbound network) or a list of hosts, IPs or CIDR ranges the sandbox may reach, such as ["switchboard.example.com"]',
    })
    .optional(),
  cpu: z
    .never({
      error:
        "E2B takes a sandbox's CPUs from its template (e2b template build --cpu-count); choose a template of the size you need",
    })
    .optional(),
  memory_mb: z
    .never({
      error:
        "E2B takes a sandbox's memory from its template (e2b template build --memory-mb); choose a template of the size you need",
    })
    .optional(),
};

/** `spec.runtime`'s E2B fields alone (the sandbox runtime adds `type` and its harness fields). */
export const e2bSettings = z.strictObject(e2bSettingsShape);
export type E2bSettings = z.output<typeof e2bSettings>;
