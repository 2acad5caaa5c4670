import { describe, expect, it } from "vitest";
import { LABELS } from "./labels.js";
import type { SandboxInfo, SandboxProvider } from "./provider.js";
import { type SweptSession, sweepSandboxes } from "./sweeper.js";

const NOW = Date.parse("2026-12-06T12:00:00Z");
const ago = (minutes: number) => new Date(NOW - minutes * 60_000);

/** A vendor account holding these sandboxes; records what the sweeper destroys. */
function account(sandboxes: SandboxInfo[], failList = false) {
  const destroyed: string[] = [];
  const listed: Record<string, string>[] = [];
  const provider = {
    vendor: "fake",
    list: async (labels: Record<string, string>) => {
      listed.push(labels);
      if (failList) throw new Error("vendor down");
      return sandboxes.filter((s) => s.labels[LABELS.deployment] === labels[LABELS.deployment]);
    },
    destroy: async (id: string) => {
      destroyed.push(id);
    },
  } as unknown as SandboxProvider;
  return { provider, destroyed, listed };
}

const box = (
  id: string,
  session: string | undefined,
  createdMinutesAgo = 60,
  deployment = "prod",
) => ({
  id,
  state: "stopped",
  createdAt: ago(createdMinutesAgo),
  labels: {
    [LABELS.deployment]: deployment,
    ...(session ? { [LABELS.session]: session } : {}),
  },
});

describe("the sandbox sweeper", () => {
  it("destroys sandboxes of closed, unknown and idle sessions and strays; keeps the rest", async () => {
    const sessions = new Map<string, SweptSession>([
      ["open", { closed: false, lastActivityAt: ago(5), sandboxId: "keep", active: false }],
      ["closed", { closed: true, lastActivityAt: ago(5), sandboxId: "c", active: false }],
      ["idle", { closed: false, lastActivityAt: ago(90), sandboxId: "i", active: false }],
      ["busy", { closed: false, lastActivityAt: ago(90), sandboxId: "other", active: true }],
      ["replaced", { closed: false, lastActivityAt: ago(1), sandboxId: "new", active: false }],
    ]);
    const a = account([
      box("keep", "open"),
      box("c", "closed"),
      box("i", "idle"),
      box("b", "busy"),
      box("stray", "replaced"),
      box("new", "replaced"),
      box("young-stray", "replaced", 0.5),
      box("gone-session", "nobody"),
      box("young-unknown", "nobody-yet", 0.5),
      box("unlabelled", undefined),
      box("elsewhere", "nobody", 60, "staging"),
    ]);
    const asked: string[][] = [];
    const result = await sweepSandboxes({
      deployment: "prod",
      accounts: [a.provider],
      sessions: async (ids) => {
        asked.push([...ids]);
        return sessions;
      },
      idleMs: 60 * 60_000,
      now: () => NOW,
    });
    expect(a.listed).toEqual([{ [LABELS.deployment]: "prod" }]);
    expect(Object.fromEntries(result.destroyed.map((d) => [d.sandboxId, d.reason]))).toEqual({
      c: "session closed",
      i: "session idle",
      stray: "not the session's sandbox",
      "gone-session": "session unknown",
      unlabelled: "session unknown",
    });
    expect(a.destroyed.sort()).toEqual(["c", "gone-session", "i", "stray", "unlabelled"]);
    expect(result.failed).toEqual([]);
  });

  it("carries on with the next account when one cannot be listed, and says so", async () => {
    const down = account([], true);
    const up = account([box("x", "nobody")]);
    const result = await sweepSandboxes({
      deployment: "prod",
      accounts: [down.provider, up.provider],
      sessions: async () => new Map(),
      idleMs: 1,
      now: () => NOW,
    });
    expect(up.destroyed).toEqual(["x"]);
    expect(result.failed).toEqual(["fake: listing sandboxes failed (vendor down)"]);
  });
});
