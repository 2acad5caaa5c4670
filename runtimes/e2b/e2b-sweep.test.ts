import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2bApiDouble } from "../../test/doubles/e2b-api.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import { type SweptSession, sweepSandboxes } from "../sandbox/index.js";
import { allowedEnvironment } from "../secrets.js";
import { E2bSandboxProvider } from "./e2b-provider.js";
import { E2bRuntime } from "./e2b-runtime.js";

/**
 * The sweeper over E2B: sandboxes left behind (by a worker that died mid-turn, by sessions
 * closed or idle) are found by their labels through the real SDK against the double, and
 * killed; the one a session in progress uses is kept.
 */

const KEY = "e2b_sweep-secret-0a9b8c";
const DEPLOYMENT = "sweep-test";
let e2b: E2bApiDouble;

beforeAll(async () => {
  e2b = await E2bApiDouble.start({ apiKey: KEY, pageSize: 2 });
});
afterAll(async () => {
  await e2b.close();
});

describe("sweeping E2B sandboxes", () => {
  it("kills what a worker killed mid-turn left, and closed, idle and unknown sessions' sandboxes", async () => {
    const runtime = new E2bRuntime({ egress: loopbackEgress, deployment: DEPLOYMENT });
    const settings = runtime.settings.parse({
      type: "e2b",
      harness: "command",
      command: ["sh", "-c", 'sleep 30; echo "$1"', "agent", "{{input}}"],
      api_key: { env: "SWEEP_E2B_KEY" },
      api_url: e2b.apiUrl,
      sandbox_url: e2b.sandboxUrl,
      price_per_vcpu_hour_usd: 0.05,
      price_per_gib_hour_usd: 0.01,
    });
    const secrets = allowedEnvironment({ SWEEP_E2B_KEY: KEY }, ["SWEEP_E2B_KEY"]);

    // A turn that never ends: its worker "dies" (nobody aborts it, nobody pauses it).
    const dying = randomUUID();
    const turn = runtime.turn({
      settings,
      agent: { id: "agent-1", name: "sweeper-test" },
      sessionId: dying,
      handle: null,
      input: "work forever",
      transcript: [],
      runId: "run-dying",
      attempt: 1,
      signal: new AbortController().signal,
      secrets,
    });
    const abandoned = (async () => {
      for await (const _event of turn) {
        // read on, as the dead worker did until it died
      }
    })().catch(() => undefined);
    await eventually(async () => expect(e2b.started).toHaveLength(1));
    const orphan = e2b.started[0]?.sandboxId ?? "";

    const provider = new E2bSandboxProvider(
      { apiKey: KEY, apiUrl: e2b.apiUrl, sandboxUrl: e2b.sandboxUrl },
      { egress: loopbackEgress },
    );
    const labels = (session: string) => ({
      "switchboard.deployment": DEPLOYMENT,
      "switchboard.agent": "agent-1",
      "switchboard.session": session,
    });
    const signal = new AbortController().signal;
    const [closed, idle, busy, kept] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const ids: Record<string, string> = {};
    for (const session of [closed, idle, busy, kept]) {
      ids[session] = (await provider.create({ labels: labels(session) }, signal)).id;
    }
    const elsewhere = await provider.create(
      { labels: { ...labels(kept), "switchboard.deployment": "another-deployment" } },
      signal,
    );

    const now = Date.now();
    const known = new Map<string, SweptSession>([
      [
        closed,
        { closed: true, lastActivityAt: new Date(now), sandboxId: ids[closed], active: false },
      ],
      [
        idle,
        {
          closed: false,
          lastActivityAt: new Date(now - 3_600_000),
          sandboxId: ids[idle],
          active: false,
        },
      ],
      [
        busy,
        {
          closed: false,
          lastActivityAt: new Date(now - 3_600_000),
          sandboxId: ids[busy],
          active: true,
        },
      ],
      [kept, { closed: false, lastActivityAt: new Date(now), sandboxId: ids[kept], active: false }],
      // The dead worker's session: the run is over (its handle may not even have been stored).
      [
        dying,
        { closed: false, lastActivityAt: new Date(now), sandboxId: undefined, active: false },
      ],
    ]);
    const result = await sweepSandboxes({
      deployment: DEPLOYMENT,
      accounts: [provider],
      sessions: async (sessionIds) =>
        new Map(
          sessionIds.flatMap((id) => (known.has(id) ? [[id, known.get(id) as SweptSession]] : [])),
        ),
      idleMs: 600_000,
      graceMs: 0,
    });
    expect(result.failed).toEqual([]);
    expect(
      Object.fromEntries(result.destroyed.map((swept) => [swept.sandboxId, swept.reason])),
    ).toEqual({
      [orphan]: "not the session's sandbox",
      [ids[closed] as string]: "session closed",
      [ids[idle] as string]: "session idle",
    });
    expect([...e2b.sandboxes.keys()].sort()).toEqual([ids[busy], ids[kept], elsewhere.id].sort());
    // The orphan's process died with it.
    expect(e2b.sandboxes.has(orphan)).toBe(false);
    expect(e2b.unexpectedRequests).toEqual([]);
    await abandoned;
  });
});
