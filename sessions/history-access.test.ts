import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../app/db/index.js";
import {
  AccessPolicy,
  type Authorizer,
  EmbeddedAuthorizer,
  loadPolicyModel,
  type UserPrincipal,
} from "../authz/index.js";
import type { RunnableAgent } from "./engine/agent-source.js";
import { mayReadHistory } from "./history-access.js";

/**
 * Who reads a run or session. The tuples on `agent:helpdesk` belong to whichever agent has
 * the name now (Mallory's); the retired one's history follows its own row's owner.
 */

const person = (name: string): UserPrincipal => ({
  kind: "user",
  userId: `id-${name}`,
  email: `${name}@example.com`,
  via: "api",
});
const agent = (owner: string, retired: boolean): RunnableAgent => ({
  id: "agent-id",
  name: "helpdesk",
  title: "Helpdesk",
  owner,
  state: "enabled",
  stateReason: null,
  retired,
  runtime: { type: "http" },
});

describe("who reads a run or a session", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-history-"));
  let db: Database;
  let authorizer: Authorizer;
  let access: AccessPolicy;
  const reads = (who: string, of: RunnableAgent | undefined) =>
    mayReadHistory(access, person(who), "id-bob", of);

  beforeAll(async () => {
    db = await openDatabase({ dataDir: dir });
    await migrateLatest(db);
    authorizer = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
    access = new AccessPolicy(authorizer, 5_000);
    await authorizer.write([
      { user: "user:root@example.com", relation: "admin", object: "platform:switchboard" },
      { user: "user:alice@example.com", relation: "admin", object: "team:support" },
      { user: "user:sam@example.com", relation: "member", object: "team:support" },
      // Mallory's new agent of the same name: she owns it, Eve edits it.
      { user: "user:mallory@example.com", relation: "owner", object: "agent:helpdesk" },
      { user: "user:eve@example.com", relation: "editor", object: "agent:helpdesk" },
    ]);
  }, 60_000);
  afterAll(async () => {
    await authorizer.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lets the run's person read it, whatever became of its agent", async () => {
    for (const of of [agent("team:support", false), agent("team:support", true), undefined]) {
      expect(await reads("bob", of)).toBe(true);
    }
  });

  it("lets a live agent's editors read it", async () => {
    const live = agent("user:mallory@example.com", false);
    expect(await reads("eve", live)).toBe(true);
    expect(await reads("sam", live)).toBe(false);
  });

  it("keeps a retired agent's history from whoever holds its name now", async () => {
    const retired = agent("team:support", true);
    expect(await reads("mallory", retired)).toBe(false);
    expect(await reads("eve", retired)).toBe(false);
    // Its owning team's admins and platform admins read it; the team's plain members do not.
    expect(await reads("alice", retired)).toBe(true);
    expect(await reads("root", retired)).toBe(true);
    expect(await reads("sam", retired)).toBe(false);
  });

  it("lets the person a retired agent was owned by read its history", async () => {
    const retired = agent("user:ada@example.com", true);
    expect(await reads("ada", retired)).toBe(true);
    expect(await reads("mallory", retired)).toBe(false);
  });
});
