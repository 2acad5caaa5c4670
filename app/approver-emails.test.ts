import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GovernanceFixture } from "../governance/testing/governance-fixture.js";
import { pgliteBackend } from "../governance/testing/test-databases.js";
import { ownerEmails } from "./approver-emails.js";

/**
 * Who is asked about an access request: the agent's own owners first (its team's admins,
 * people named owners), the platform admins (owners of every agent) only as the next tier,
 * so they are asked only when nobody of the agent's own can be reached.
 */
describe("ownerEmails", () => {
  let f: GovernanceFixture;
  let owners: ReturnType<typeof ownerEmails>;

  beforeAll(async () => {
    f = await GovernanceFixture.open(pgliteBackend());
    owners = ownerEmails(f.authorizer);
    for (const name of ["ledger", "orphan", "shared"]) {
      await f.agent(name);
      await f.grant([
        { user: "platform:switchboard", relation: "platform", object: `agent:${name}` },
      ]);
    }
    // orphan's owning team has no admin; shared also names a person and a team as owners.
    await f.authorizer.write(
      [{ user: "team:empty", relation: "owner_team", object: "agent:orphan" }],
      [{ user: "team:research", relation: "owner_team", object: "agent:orphan" }],
    );
    await f.grant([
      { user: "user:carol@example.com", relation: "owner", object: "agent:shared" },
      { user: "team:sales#member", relation: "owner", object: "agent:shared" },
      { user: "user:dan@example.com", relation: "member", object: "team:sales" },
    ]);
  }, 60_000);
  afterAll(() => f.close());

  it("asks the owning team's admins first, platform admins after", async () => {
    expect(await owners("ledger")).toEqual([["alice@example.com"], ["root@example.com"]]);
  });

  it("asks platform admins first when the owning team has no admin", async () => {
    expect(await owners("orphan")).toEqual([["root@example.com"]]);
  });

  it("counts people and teams named owners among the agent's own", async () => {
    expect(await owners("shared")).toEqual([
      ["alice@example.com", "carol@example.com", "dan@example.com"],
      ["root@example.com"],
    ]);
  });
});
