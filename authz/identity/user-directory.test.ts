import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import { UserDirectory } from "./user-directory.js";

describe("UserDirectory", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-users-"));
  let db: Database;
  let users: UserDirectory;
  beforeAll(async () => {
    db = await openDatabase({ dataDir: dir });
    await migrateLatest(db);
    users = new UserDirectory(db.knex);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps one user per person, keyed by email in any case", async () => {
    const first = await users.ensureUser("Ada@Example.com", "Ada Lovelace");
    const again = await users.ensureUser(" ada@example.com ");
    expect(again.id).toBe(first.id);
    expect(again.email).toBe("ada@example.com");
    expect(again.displayName).toBe("Ada Lovelace");
    const concurrent = await Promise.all(
      [1, 2, 3].map(() => users.ensureUser("grace@example.com")),
    );
    expect(new Set(concurrent.map((u) => u.id)).size).toBe(1);
  });

  it("maps Slack and Teams ids onto that one user", async () => {
    const ada = await users.ensureUser("ada@example.com");
    await users.linkIdentity({ provider: "slack", tenant: "T123", externalId: "U999" }, ada.id);
    await users.linkIdentity(
      { provider: "teams", tenant: "tenant-1", externalId: "aad-42" },
      ada.id,
    );
    expect(
      (await users.findByIdentity({ provider: "slack", tenant: "T123", externalId: "U999" }))?.id,
    ).toBe(ada.id);
    expect(
      (await users.findByIdentity({ provider: "teams", tenant: "tenant-1", externalId: "aad-42" }))
        ?.id,
    ).toBe(ada.id);
    // The same Slack id in another workspace is another person.
    expect(
      await users.findByIdentity({ provider: "slack", tenant: "T456", externalId: "U999" }),
    ).toBeUndefined();
  });

  it("answers the ids a person has on one provider and tenant, and none once deactivated", async () => {
    const lin = await users.ensureUser("lin@example.com");
    await users.linkIdentity(
      { provider: "teams", tenant: "tenant-1", externalId: "aad-lin" },
      lin.id,
    );
    await users.linkIdentity(
      { provider: "teams", tenant: "tenant-2", externalId: "aad-other" },
      lin.id,
    );
    await users.linkIdentity({ provider: "slack", tenant: "tenant-1", externalId: "ULIN" }, lin.id);
    expect(await users.externalIdsOf("Lin@Example.com", "teams", "tenant-1")).toEqual(["aad-lin"]);
    expect(await users.externalIdsOf("nobody@example.com", "teams", "tenant-1")).toEqual([]);
    await db.knex("users").where({ id: lin.id }).update({ is_active: false });
    expect(await users.externalIdsOf("lin@example.com", "teams", "tenant-1")).toEqual([]);
  });

  it("refuses something that is not an email, clearly", async () => {
    await expect(users.ensureUser("not an email")).rejects.toMatchObject({
      code: "bad_request",
      message: '"not an email" is not an email address.',
    });
  });
});
