import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSwitchboardError } from "../../core/index.js";
import { GovernanceFixture } from "../../governance/testing/governance-fixture.js";
import { BACKENDS } from "../../governance/testing/test-databases.js";
import type { AccessRequest } from "./access-request.js";
import { AccessRequests } from "./access-requests.js";

/**
 * Asking for the right to run an agent, as every surface does (API, site form, chat button):
 * only someone who may see but not run it asks; a second ask finds the first; only an owner
 * decides, once however often the click arrives; approving lets the person run it.
 */
describe.each(BACKENDS)("access requests on %s", (_name, makeBackend) => {
  let f: GovernanceFixture;
  let requests: AccessRequests;
  const told: string[] = [];

  beforeAll(async () => {
    f = await GovernanceFixture.open(makeBackend());
    requests = new AccessRequests({
      knex: f.db.knex,
      access: f.access,
      authorizer: f.authorizer,
      notifier: {
        requested: async (r) => void told.push(`requested ${r.requesterEmail} ${r.agentName}`),
        decided: async (r) => void told.push(`${r.status} ${r.requesterEmail} ${r.agentName}`),
      },
    });
    for (const name of ["ledger", "payroll", "archive"]) {
      await f.agent(name);
      // Everyone may see these agents; only team:research (their owner) may run them.
      await f.authorizer.write(
        [],
        [{ user: "user:*", relation: "runner", object: `agent:${name}` }],
      );
      await f.grant([
        { user: "user:*", relation: "viewer", object: `agent:${name}` },
        { user: "platform:switchboard", relation: "platform", object: `agent:${name}` },
      ]);
    }
    await f.person("eve");
    await f.person("carol");
    await f.grant([{ user: "user:carol@example.com", relation: "member", object: "team:sales" }]);
  }, 60_000);
  afterAll(() => f.close());

  async function refusal(promise: Promise<unknown>) {
    try {
      await promise;
    } catch (error) {
      if (isSwitchboardError(error)) return error;
      throw error;
    }
    throw new Error("expected a refusal");
  }

  it("files a request once: a second ask answers the pending one and tells nobody again", async () => {
    const first = await requests.file(f.who("mallory"), "ledger", "I close the books on Fridays");
    expect(first.created).toBe(true);
    expect(first.request).toMatchObject({
      requesterEmail: "mallory@example.com",
      agentName: "ledger",
      reason: "I close the books on Fridays",
      status: "pending",
    });
    const again = await requests.file(f.who("mallory"), "ledger", "please");
    expect(again).toMatchObject({ created: false, request: { id: first.request.id } });
    expect(told.filter((t) => t === "requested mallory@example.com ledger")).toHaveLength(1);
  });

  it("refuses asks that make no sense, in words", async () => {
    expect(await refusal(requests.file(f.who("ada"), "ledger", "x"))).toMatchObject({
      status: 409,
      message: expect.stringContaining("already run"),
    });
    expect(await refusal(requests.file(f.who("mallory"), "no-such-agent", "x"))).toMatchObject({
      status: 404,
    });
    expect(await refusal(requests.file(f.who("mallory"), "payroll", ""))).toMatchObject({
      status: 400,
      message: expect.stringContaining("reason"),
    });
    expect(
      await refusal(requests.file(f.who("mallory"), "payroll", "x".repeat(1001))),
    ).toMatchObject({
      status: 400,
    });
  });

  it("lists pending requests to the agent's owners only", async () => {
    const { request } = await requests.file(f.who("eve"), "payroll", "<b>audit</b> season");
    expect((await requests.pendingFor(f.who("alice"))).map((r) => r.id)).toContain(request.id);
    expect((await requests.pendingFor(f.who("root"))).map((r) => r.id)).toContain(request.id);
    expect(await requests.pendingFor(f.who("bob"))).toEqual([]);
    expect(await requests.pendingFor(f.who("eve"))).toEqual([]);
    // Stored as written; surfaces escape it.
    expect(request.reason).toBe("<b>audit</b> season");
  });

  it("refuses a decision from anyone but an owner, each time, and changes nothing", async () => {
    const { request } = await requests.file(f.who("eve"), "archive", "records request");
    for (const who of ["eve", "bob", "mallory"]) {
      expect(
        await refusal(requests.decide(f.who(who), request.id, { decision: "approve" })),
      ).toMatchObject({ status: 403 });
    }
    expect((await requests.get(request.id))?.status).toBe("pending");
    expect(
      await refusal(requests.decide(f.who("alice"), "not-a-uuid", { decision: "deny" })),
    ).toMatchObject({
      status: 404,
    });
  });

  it("approves once however often the click arrives; the person may run the agent after", async () => {
    const mallory = f.who("mallory");
    const pending = (await requests.pendingOf(mallory.userId, "ledger")) as AccessRequest;
    await expect(
      f.service.start(mallory, { agentName: "ledger", input: "hi" }),
    ).rejects.toMatchObject({
      status: 403,
    });
    const clicks = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        requests.decide(f.who("alice"), pending.id, { decision: "approve", reason: "ok" }),
      ),
    );
    const applied = clicks.filter((c) => c.status === "fulfilled" && c.value.applied);
    expect(applied).toHaveLength(1);
    const after = await requests.get(pending.id);
    expect(after).toMatchObject({
      status: "approved",
      decidedBy: "user:alice@example.com",
      decisionReason: "ok",
      grantTarget: "user:mallory@example.com",
    });
    expect(await f.access.can(mallory, "runner", "agent:ledger")).toBe(true);
    const { run } = await f.service.start(mallory, { agentName: "ledger", input: "hi" });
    expect(run.status).toBe("queued");
    expect(told).toContain("approved mallory@example.com ledger");
    const audit = await f.db
      .knex("audit_log")
      .where({ target_id: "agent:ledger" })
      .select("action");
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(["access_request.filed", "access_request.approved"]),
    );
    // A later decision finds the one that stands.
    const late = await requests.decide(f.who("root"), pending.id, { decision: "deny" });
    expect(late).toMatchObject({ applied: false, request: { status: "approved" } });
  });

  it("denies with a reason and writes no grant; can grant a team of the person's", async () => {
    const eve = f.who("eve");
    const payroll = (await requests.pendingOf(eve.userId, "payroll")) as AccessRequest;
    const denied = await requests.decide(f.who("alice"), payroll.id, {
      decision: "deny",
      reason: "payroll is HR only",
    });
    expect(denied.request).toMatchObject({ status: "denied", grantTarget: null });
    expect(await f.access.can(eve, "runner", "agent:payroll")).toBe(false);

    const { request } = await requests.file(f.who("carol"), "payroll", "sales commissions");
    expect(
      await refusal(
        requests.decide(f.who("alice"), request.id, {
          decision: "approve",
          grantTo: "team",
          team: "research",
        }),
      ),
    ).toMatchObject({ status: 400, message: expect.stringContaining("not a member") });
    await requests.decide(f.who("alice"), request.id, {
      decision: "approve",
      grantTo: "team",
      team: "sales",
    });
    expect(await f.access.can(f.who("carol"), "runner", "agent:payroll")).toBe(true);
  });
});
