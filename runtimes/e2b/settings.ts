import { z } from "zod";
import { secretSetting } from "../http/index.js";
import { checkHarness, sandboxSettingsShape } from "../sandbox/index.js";

const httpUrl = (what: string) =>
  z.url({ protocol: /^https?$/, error: `must be the http:// or https:// URL of ${what}` });

/** E2B sizes a sandbox by its template: `Sandbox.create` takes no CPU, memory or disk. */
const sizedByTemplate = (what: string, flag: string) =>
  z
    .never({
      error: `E2B takes a sandbox's ${what} from its template (e2b template build ${flag}); name a template of the size you need`,
    })
    .optional();

/**
 * `spec.runtime` for an agent in an E2B sandbox: the vendor-neutral sandbox settings
 * (harness, template, network, secrets, price) plus where E2B is and the key to it.
 *
 * `auto_stop_minutes` is E2B's `timeout`: the sandbox's time to live, set at creation and
 * renewed at the start of every turn, after which E2B kills a sandbox left running (by a
 * dead worker). It must outlast the longest turn. A sandbox is paused between turns, and a
 * paused one has no time to live: the sweeper destroys those of idle or closed sessions.
 */
export const e2bSettings = z
  .strictObject({
    type: z.literal("e2b"),
    ...sandboxSettingsShape,
    /** The E2B API key (`e2b_…`), as a reference: a manifest is readable by everyone who may view the agent. */
    api_key: secretSetting,
    /** E2B's control-plane API; `https://api.<domain>` when absent. For a self-hosted E2B or a test double. */
    api_url: httpUrl("E2B's API, such as https://api.e2b.app").optional(),
    /** E2B's domain, for a self-hosted deployment; `e2b.app` when absent. */
    domain: z
      .string({ error: "must be E2B's domain, such as e2b.app" })
      .trim()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, "must be a domain name, such as e2b.app")
      .optional(),
    /** Where the SDK reaches every sandbox's envd (the SDK's E2B_SANDBOX_URL); from the domain when absent. */
    sandbox_url: httpUrl("the sandboxes' envd endpoint").optional(),
    cpu: sizedByTemplate("CPUs", "--cpu-count"),
    memory_gib: sizedByTemplate("memory", "--memory-mb"),
    disk_gib: sizedByTemplate("disk", "and its disk size"),
  })
  .superRefine(checkHarness);

export type E2bSettings = z.output<typeof e2bSettings>;
