import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import {
  AccessPolicy,
  loadPolicyModel,
  OpenFgaAuthorizer,
  type UserPrincipal,
} from "../../authz/index.js";
import { AuditLog } from "../../governance/index.js";
import { describeWithOpenFga } from "../../test/support/openfga-server.js";
import { type AgentManifestInput, validateManifest } from "../manifest/index.js";
import { AgentDirectory, AgentRegistry } from "./index.js";

/**
 * What a person is listed on an OpenFGA server (started with the settings production runs
 * with: its check and iterator caches on) while access changes: the directory keeps each
 * person's list for a while, and no change of access may wait for that.
 */

const ada: UserPrincipal = { kind: "user", userId: "ada", email: "ada@example.com", via: "api" };
const cli = { actor: "system:cli" };

function manifest(name: string, view: string[]): AgentManifestInput {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name, title: `Agent ${name}`, description: "", owner: "team:ops", tags: [] },
    spec: { runtime: { type: "a2a" }, access: { view, run: [] } },
  };
}

describeWithOpenFga("the directory's lists on an OpenFGA server", (openFga) => {
  let db: Database;
  let dir: string;
  let here: OpenFgaAuthorizer;
  let registry: AgentRegistry;
  let directory: AgentDirectory;
  const connect = (options: { listCacheTtlMs?: number; changesEveryMs?: number } = {}) =>
    OpenFgaAuthorizer.connect({
      apiUrl: openFga().url,
      storeName: "listing",
      modelDsl: loadPolicyModel(),
      ...options,
    });
  const listed = async () => (await directory.list(ada)).items.map((agent) => agent.name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "switchboard-fga-listing-"));
    db = await openDatabase({ dataDir: dir });
    await migrateLatest(db);
    // Kept for a minute, so only an invalidation can explain a change seen sooner.
    here = await connect({ listCacheTtlMs: 60_000 });
    registry = new AgentRegistry(db.knex, here, new AuditLog(db.knex));
    directory = new AgentDirectory(registry, new AccessPolicy(here, 5_000));
  }, 60_000);
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("hides an agent from the very next list once its grant is revoked through Switchboard", async () => {
    await registry.apply(validateManifest(manifest("ledger", ["user:ada@example.com"])), cli);
    await registry.apply(validateManifest(manifest("atlas", ["user:ada@example.com"])), cli);
    // Asked twice, past the write window: kept by Switchboard, checks cached by the server.
    expect(await listed()).toEqual(["atlas", "ledger"]);
    expect(await listed()).toEqual(["atlas", "ledger"]);
    expect((await directory.get(ada, "ledger")).name).toBe("ledger");

    await registry.apply(validateManifest(manifest("ledger", ["team:ops"])), cli);

    expect(await listed()).toEqual(["atlas"]);
    expect((await directory.list(ada, { q: "ledger", facets: true })).items).toEqual([]);
    await expect(directory.get(ada, "ledger")).rejects.toMatchObject({ status: 404 });
    // And given back: shown again at once.
    await registry.apply(validateManifest(manifest("ledger", ["user:ada@example.com"])), cli);
    expect(await listed()).toEqual(["atlas", "ledger"]);
  });

  it("sees a revoke written by another process from OpenFGA's changelog", async () => {
    const elsewhere = await connect();
    expect(await listed()).toContain("ledger");
    await elsewhere.write(
      [],
      [{ user: "user:ada@example.com", relation: "viewer", object: "agent:ledger" }],
    );
    // Not waiting for the minute the list is kept: the changelog is read every second.
    await vi.waitFor(async () => expect(await listed()).toEqual(["atlas"]), {
      timeout: 5_000,
      interval: 200,
    });
    await elsewhere.write([
      { user: "user:ada@example.com", relation: "viewer", object: "agent:ledger" },
    ]);
    await vi.waitFor(async () => expect(await listed()).toEqual(["atlas", "ledger"]), {
      timeout: 5_000,
      interval: 200,
    });
  });

  it("without the changelog, keeps a list no longer than its TTL", async () => {
    // A process that reads the changelog only once an hour: the TTL is all that bounds it.
    const deaf = await connect({ listCacheTtlMs: 4_000, changesEveryMs: 3_600_000 });
    const elsewhere = await connect();
    const ask = () =>
      deaf.listObjects({ user: "user:ada@example.com", relation: "viewer", type: "agent" });
    await ask(); // its one look at the changelog, in the background, sees the last test's writes
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await ask()).sort()).toEqual(["agent:atlas", "agent:ledger"]);
    await elsewhere.write(
      [],
      [{ user: "user:ada@example.com", relation: "viewer", object: "agent:atlas" }],
    );
    // Still kept, as the TTL allows…
    expect((await ask()).sort()).toEqual(["agent:atlas", "agent:ledger"]);
    // …and gone once it has passed (the server's own caches drop it within a second too).
    await vi.waitFor(async () => expect(await ask()).toEqual(["agent:ledger"]), {
      timeout: 10_000,
      interval: 250,
    });
  }, 30_000);
});
