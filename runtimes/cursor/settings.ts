import { z } from "zod";
import { secretSetting } from "../http/index.js";

/**
 * `spec.runtime` for an agent on Cursor's Cloud Agents API (v1). The first turn of a
 * Switchboard session launches a Cursor agent on `repository` at `ref`; later turns are
 * follow-up runs on that agent. Names follow the API's create-agent body where they map to
 * it (`startingRef`, `model.id`, `workOnCurrentBranch`, `autoCreatePR`, `skipReviewerRequest`,
 * `mode`), in the manifest's snake_case.
 */
export const cursorSettings = z.strictObject({
  type: z.literal("cursor"),
  /** The repository the agent works on, as the Git provider shows it. */
  repository: z.url({
    protocol: /^https$/,
    error:
      "must be the https:// URL of the repository the agent works on, as your Git provider shows it (e.g. https://github.com/acme/app)",
  }),
  /** Branch or commit the agent starts from; the repository's default branch when absent. */
  ref: z
    .string({ error: "must be a branch name or commit SHA, such as main" })
    .trim()
    .min(1, "must be a branch name or commit SHA, such as main")
    .optional(),
  /** A model id from Cursor's GET /v1/models; Cursor's configured default when absent. */
  model: z
    .string({ error: "must be a model id Cursor lists (GET /v1/models), such as composer-2" })
    .trim()
    .min(1, "must be a model id Cursor lists (GET /v1/models), such as composer-2")
    .optional(),
  /** Push to `ref` itself instead of a new `cursor/…` branch. */
  work_on_current_branch: z.boolean({ error: "must be true or false" }).optional(),
  /** Open a pull request when a run completes. */
  auto_create_pr: z.boolean({ error: "must be true or false" }).optional(),
  /** With auto_create_pr: do not ask the key's owner to review the pull request. */
  skip_reviewer_request: z.boolean({ error: "must be true or false" }).optional(),
  /** `plan` drafts a plan before coding; `agent` (Cursor's default) changes code directly. */
  mode: z.enum(["agent", "plan"], { error: 'must be "agent" or "plan"' }).optional(),
  /** The Cursor API key (user or service account), as a reference. */
  api_key: secretSetting,
  /** Another API address (a proxy, a test double); Cursor's own when absent. */
  base_url: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://api.cursor.com" })
    .default("https://api.cursor.com"),
  /**
   * What one run costs, in US dollars. Cursor bills agent runs by its own meter, which the
   * API does not report in money: Switchboard books this figure per run, marked as an
   * estimate. Required, so no run is booked at $0 without the owner saying so.
   */
  price_per_run_usd: z
    .number({
      error:
        "must be what one Cursor agent run costs you, in US dollars (e.g. 0.5); Switchboard books it per run as an estimate, since Cursor's API reports no price",
    })
    .min(0, "must be 0 or more US dollars")
    .max(1000, "must be at most 1000 US dollars per run"),
  /** Read progress from the run's event stream; false polls the run instead. */
  stream: z.boolean({ error: "must be true or false" }).default(true),
  /** How often to poll a run (when not streaming) or retry while the agent is busy. */
  poll_seconds: z
    .number({ error: "must be a number of seconds" })
    .int("must be a whole number of seconds")
    .min(1, "must be at least 1 second")
    .max(60, "must be at most 60 seconds")
    .default(5),
});
export type CursorSettings = z.output<typeof cursorSettings>;
