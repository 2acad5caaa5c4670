import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import { eventually } from "../../test/support/eventually.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import { syncPlatformAdmins } from "../open-authorizer.js";
import { loadPolicyModel } from "../policy-model.js";
import { EmbeddedAuthorizer } from "./embedded-authorizer.js";

const modelDsl = loadPolicyModel();
const shareWithTeam = { user: "team:platform#member", relation: "runner", object: "agent:triage" };
const adaInTeam = { user: "user:ada@example.com", relation: "member", object: "team:platform" };
const canAdaRun = { user: "user:ada@example.com", relation: "runner", object: "agent:triage" };

describe("the embedded authorizer on PGlite", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-authz-"));
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ dataDir: dir });
    await migrateLatest(db);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps its tuples across a restart", async () => {
    const first = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl });
    await first.write([shareWithTeam, adaInTeam]);
    expect(await first.check(canAdaRun)).toBe(true);
    await first.close();

    const second = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl });
    expect(await second.check(canAdaRun)).toBe(true);
    expect(await second.read({ object: "agent:triage" })).toEqual([shareWithTeam]);

    await second.write([], [adaInTeam]);
    expect(await second.check(canAdaRun)).toBe(false);
    const third = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl });
    expect(await third.check(canAdaRun)).toBe(false);
  });

  it("treats a repeated grant or revoke as done, not as an error", async () => {
    const fga = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl });
    const grant = { user: "user:bob@example.com", relation: "viewer", object: "agent:faq" };
    await fga.write([grant]);
    await fga.write([grant]);
    expect(await db.knex("authz_tuples").where({ object: "agent:faq" })).toHaveLength(1);
    await fga.write([], [grant]);
    await fga.write([], [grant]);
    expect(await fga.check({ ...grant })).toBe(false);
  });

  it("refuses a write with one bad tuple whole: nothing is stored", async () => {
    const fga = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl });
    const good = { user: "user:carol@example.com", relation: "viewer", object: "agent:ok" };
    await expect(
      fga.write([good, { user: "agent:x", relation: "runner", object: "agent:y" }]),
    ).rejects.toMatchObject({
      code: "invalid_tuple",
      openFgaCode: 2027,
    });
    expect(await fga.check(good)).toBe(false);
    expect(await db.knex("authz_tuples").where({ object: "agent:ok" })).toHaveLength(0);
  });

  it("adds the configured platform admins, removes no one, and admins reach linked agents", async () => {
    const fga = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl });
    expect(await syncPlatformAdmins(fga, ["root@example.com", "ops@example.com"])).toEqual({
      added: ["user:root@example.com", "user:ops@example.com"],
      removed: [],
    });
    await fga.write([
      { user: "platform:switchboard", relation: "platform", object: "agent:triage" },
    ]);
    expect(
      await fga.check({ user: "user:ops@example.com", relation: "owner", object: "agent:triage" }),
    ).toBe(true);

    // ops@ may have been made an admin later on the admin page: a shorter list keeps them.
    expect(await syncPlatformAdmins(fga, ["root@example.com"])).toEqual({
      added: [],
      removed: [],
    });
    expect(
      await fga.check({ user: "user:ops@example.com", relation: "owner", object: "agent:triage" }),
    ).toBe(true);
  });
});

describe("embedded authorizers in two processes sharing PostgreSQL", () => {
  let test: TestDatabase;
  const dbs: Database[] = [];
  const authorizers: EmbeddedAuthorizer[] = [];
  beforeAll(async () => {
    test = await createTestDatabase("authz");
    for (let i = 0; i < 2; i++)
      dbs.push(await openDatabase({ url: test.url, dataDir: "unused", poolMax: 2 }));
    await migrateLatest(dbs[0] as Database);
    for (const db of dbs)
      authorizers.push(
        await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl, databaseUrl: test.url }),
      );
  });
  afterAll(async () => {
    for (const authorizer of authorizers) await authorizer.close();
    for (const db of dbs) await db.close();
    await test.drop();
  });

  it("see each other's grants and revocations without a restart", async () => {
    const [web, worker] = authorizers as [EmbeddedAuthorizer, EmbeddedAuthorizer];
    await web.write([shareWithTeam, adaInTeam]);
    await eventually(async () => expect(await worker.check(canAdaRun)).toBe(true));

    await worker.write([], [shareWithTeam]);
    await eventually(async () => expect(await web.check(canAdaRun)).toBe(false));
  });

  it("list what another process's grant gave and stop listing what it revoked", async () => {
    const [web, worker] = authorizers as [EmbeddedAuthorizer, EmbeddedAuthorizer];
    const ada = { user: "user:ada@example.com", relation: "viewer", type: "agent" };
    const grant = { user: "user:ada@example.com", relation: "viewer", object: "agent:lister" };
    // Asked once before the grant, so a remembered answer would be the stale one.
    expect(await web.listObjects(ada)).not.toContain("agent:lister");
    await worker.write([grant]);
    await eventually(async () => expect(await web.listObjects(ada)).toContain("agent:lister"));
    await worker.write([], [grant]);
    await eventually(async () => expect(await web.listObjects(ada)).not.toContain("agent:lister"));
    await web.write([grant]);
    expect(await web.listObjects(ada)).toContain("agent:lister");
  });

  it("ignore notifications on their channel that are not theirs, and keep listening", async () => {
    const [web, worker] = authorizers as [EmbeddedAuthorizer, EmbeddedAuthorizer];
    // Anyone who may connect may NOTIFY; a listener that threw would end the process.
    for (const payload of ["not json", '{"origin":"x","written":"nope"}', "null", "[]"]) {
      await (dbs[0] as Database).knex.raw("select pg_notify('switchboard_authz_tuples', ?)", [
        payload,
      ]);
    }
    const grant = { user: "user:eve@example.com", relation: "viewer", object: "agent:after" };
    await web.write([grant]);
    await eventually(async () => expect(await worker.check(grant)).toBe(true));
  });

  it("carry a large write across, however many notifications it takes", async () => {
    const [web, worker] = authorizers as [EmbeddedAuthorizer, EmbeddedAuthorizer];
    const grants = Array.from({ length: 600 }, (_, i) => ({
      user: `user:person-${i}@example.com`,
      relation: "viewer",
      object: "agent:popular",
    }));
    await web.write(grants);
    await eventually(async () =>
      expect(await worker.read({ object: "agent:popular" })).toHaveLength(600),
    );
  });
});
