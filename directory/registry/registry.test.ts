import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import {
  AccessPolicy,
  type Authorizer,
  EmbeddedAuthorizer,
  loadPolicyModel,
  OpenFgaAuthorizer,
  type UserPrincipal,
} from "../../authz/index.js";
import { AuditLog } from "../../governance/index.js";
import { describeWithOpenFga } from "../../test/support/openfga-server.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import { type AgentManifestInput, validateManifest } from "../manifest/index.js";
import { AgentDirectory, AgentRegistry } from "./index.js";

/** The registry and the directory over it, on both databases Switchboard runs on. */

function manifest(
  name: string,
  overrides: {
    owner?: string;
    view?: string[];
    run?: string[];
    tags?: string[];
    title?: string;
  } = {},
): AgentManifestInput {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: {
      name,
      title: overrides.title ?? `Agent ${name}`,
      description: `Does ${name} things`,
      owner: overrides.owner ?? "team:support",
      tags: overrides.tags ?? [],
    },
    spec: {
      runtime: { type: name.startsWith("n8n") ? "n8n" : "a2a" },
      access: { view: overrides.view ?? [], run: overrides.run ?? [] },
    },
  };
}

const person = (email: string): UserPrincipal => ({
  kind: "user",
  userId: email,
  email,
  via: "api",
});
const ada = person("ada@example.com");
const bob = person("bob@example.com");
const cli = { actor: "system:cli" };

interface Backend {
  db: Database;
  authorizer: Authorizer;
  cleanup: () => Promise<void>;
}

async function embeddedOn(db: Database, cleanup: () => Promise<void>): Promise<Backend> {
  await migrateLatest(db);
  const authorizer = await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
  return { db, authorizer, cleanup };
}

async function pglite(): Promise<Database & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-registry-"));
  return Object.assign(await openDatabase({ dataDir: dir }), { dir });
}

const backends: [string, () => Promise<Backend>][] = [
  [
    "PGlite",
    async () => {
      const db = await pglite();
      return embeddedOn(db, async () => {
        await db.close();
        rmSync(db.dir, { recursive: true, force: true });
      });
    },
  ],
  [
    "PostgreSQL",
    async () => {
      const database: TestDatabase = await createTestDatabase("registry");
      const db = await openDatabase({ url: database.url, dataDir: "unused", poolMax: 4 });
      return embeddedOn(db, async () => {
        await db.close();
        await database.drop();
      });
    },
  ],
];

describe.each(backends)("the agent registry on %s with the embedded evaluator", (_label, open) =>
  describeRegistry(open),
);

describeWithOpenFga("the agent registry with an OpenFGA server", (openFga) =>
  describeRegistry(async () => {
    const db = await pglite();
    await migrateLatest(db);
    const authorizer = await OpenFgaAuthorizer.connect({
      apiUrl: openFga().url,
      storeName: "registry",
      modelDsl: loadPolicyModel(),
    });
    return {
      db,
      authorizer,
      cleanup: async () => {
        await db.close();
        rmSync(db.dir, { recursive: true, force: true });
      },
    };
  }),
);

function describeRegistry(open: () => Promise<Backend>): void {
  let db: Database;
  let cleanup: () => Promise<void>;
  let authorizer: Authorizer;
  let registry: AgentRegistry;
  let directory: AgentDirectory;
  let audit: AuditLog;

  beforeAll(async () => {
    ({ db, authorizer, cleanup } = await open());
    audit = new AuditLog(db.knex);
    registry = new AgentRegistry(db.knex, authorizer, audit);
    directory = new AgentDirectory(registry, new AccessPolicy(authorizer, 5_000));
    await authorizer.write([
      { user: "user:ada@example.com", relation: "admin", object: "team:support" },
    ]);
  }, 60_000);
  afterAll(async () => {
    await authorizer.close();
    await cleanup();
  });

  it("creates an agent, writes its access and an audit entry, and makes its team", async () => {
    const result = await registry.apply(
      validateManifest(manifest("triage", { view: ["user:*"], run: ["user:bob@example.com"] })),
      cli,
    );
    expect(result.outcome).toBe("created");
    expect(result.agent).toMatchObject({ name: "triage", state: "enabled", runtimeType: "a2a" });
    expect(
      (await authorizer.read({ object: "agent:triage" }))
        .map((t) => `${t.relation}@${t.user}`)
        .sort(),
    ).toEqual([
      "owner_team@team:support",
      "platform@platform:switchboard",
      "runner@user:bob@example.com",
      "viewer@user:*",
    ]);
    expect(await db.knex("teams").where({ slug: "support" }).first()).toBeTruthy();
    const [entry] = await audit.recent({ targetType: "agent", targetId: "triage" });
    expect(entry).toMatchObject({ actor: "system:cli", action: "agent.created" });
  });

  it("leaves an unchanged manifest alone and reports what an update changed", async () => {
    const same = await registry.apply(
      validateManifest(manifest("triage", { view: ["user:*"], run: ["user:bob@example.com"] })),
      cli,
    );
    expect(same.outcome).toBe("unchanged");
    const updated = await registry.apply(
      validateManifest(manifest("triage", { title: "Triage", run: ["team:support"] })),
      cli,
    );
    expect([updated.outcome, updated.changes]).toEqual([
      "updated",
      ["metadata.title", "spec.access"],
    ]);
    // The stale grants went with the update: bob and everyone lost access.
    expect(
      await authorizer.check({
        user: "user:bob@example.com",
        relation: "viewer",
        object: "agent:triage",
      }),
    ).toBe(false);
    expect(
      await authorizer.check({
        user: "user:ada@example.com",
        relation: "runner",
        object: "agent:triage",
      }),
    ).toBe(true);
  });

  it("puts access back when the database refuses the change", async () => {
    await db.knex.raw(`
      create function refuse_doomed() returns trigger language plpgsql as $$
      begin
        if new.name = 'doomed' then raise exception 'disk full'; end if;
        return new;
      end $$`);
    await db.knex.raw(
      "create trigger refuse_doomed before insert or update on agents for each row execute function refuse_doomed()",
    );
    try {
      await expect(
        registry.apply(validateManifest(manifest("doomed", { view: ["user:*"] })), cli),
      ).rejects.toThrow(/disk full/);
      expect(await authorizer.read({ object: "agent:doomed" })).toEqual([]);
      expect(await audit.recent({ targetType: "agent", targetId: "doomed" })).toEqual([]);
    } finally {
      await db.knex.raw("drop trigger refuse_doomed on agents");
      await db.knex.raw("drop function refuse_doomed");
    }
  });

  it("changes nothing on a dry run", async () => {
    const result = await registry.apply(validateManifest(manifest("drafted")), {
      ...cli,
      dryRun: true,
    });
    expect(result.outcome).toBe("created");
    expect(await registry.find("drafted")).toBeUndefined();
    expect(await authorizer.read({ object: "agent:drafted" })).toEqual([]);
  });

  it("lists only what the person may view, page by page, with facets", async () => {
    for (let i = 0; i < 12; i++) {
      const name = `bulk-${String(i).padStart(2, "0")}`;
      const view = i % 3 === 0 ? ["user:bob@example.com"] : [];
      await registry.apply(
        validateManifest(manifest(name, { view, tags: [i % 2 ? "odd" : "even"] })),
        cli,
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 5; pages++) {
      const page = await directory.list(bob, { q: "bulk", limit: 2, cursor });
      seen.push(...page.items.map((a) => a.name));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(["bulk-00", "bulk-03", "bulk-06", "bulk-09"]);

    const withFacets = await directory.list(bob, { q: "bulk", facets: true });
    expect(withFacets.facets?.tag).toEqual([
      { value: "even", count: 2 },
      { value: "odd", count: 2 },
    ]);
    expect(withFacets.facets?.owner).toEqual([{ value: "team:support", count: 4 }]);
    const odd = await directory.list(bob, { tag: "odd", facets: true });
    expect(odd.items.map((a) => a.name)).toEqual(["bulk-03", "bulk-09"]);
    // A facet's own counts ignore its own filter, so the other values stay on offer.
    expect(odd.facets?.tag.map((f) => f.value)).toEqual(["even", "odd"]);
  });

  it("searches by words across name, title, description and tags", async () => {
    await registry.apply(
      validateManifest(
        manifest("n8n-invoices", {
          view: ["user:*"],
          tags: ["finance"],
          title: "Invoice 100% checker",
        }),
      ),
      cli,
    );
    const names = async (q: string) => (await directory.list(bob, { q })).items.map((a) => a.name);
    expect(await names("FINANCE invoice")).toEqual(["n8n-invoices"]);
    expect(await names("100%")).toEqual(["n8n-invoices"]);
    expect(await names("10_%")).toEqual([]);
    expect((await directory.list(bob, { runtime: "n8n" })).items.map((a) => a.name)).toEqual([
      "n8n-invoices",
    ]);
  });

  it("hides an agent a person may not view, and refuses changes without the right", async () => {
    await expect(directory.get(bob, "triage")).rejects.toMatchObject({ status: 404 });
    expect((await directory.get(ada, "triage")).name).toBe("triage");
    await expect(
      directory.create(bob, manifest("bobs", { owner: "team:support" })),
    ).rejects.toMatchObject({ status: 403 });
    const created = await directory.create(
      bob,
      manifest("bobs", { owner: "user:bob@example.com" }),
    );
    expect(created.outcome).toBe("created");
    await expect(directory.retire(ada, "bobs")).rejects.toMatchObject({ status: 404 });
    await expect(directory.create(ada, manifest("triage"))).rejects.toMatchObject({ status: 409 });
  });

  it("suspends and disables with a reason; disabled agents leave the catalog", async () => {
    const suspended = await registry.setState("n8n-invoices", "suspended", "vendor outage", cli);
    expect([suspended.state, suspended.stateReason]).toEqual(["suspended", "vendor outage"]);
    expect((await directory.list(bob, { q: "invoice" })).items).toHaveLength(1);
    await registry.setState("n8n-invoices", "disabled", undefined, cli);
    expect((await directory.list(bob, { q: "invoice" })).items).toHaveLength(0);
    expect((await directory.get(bob, "n8n-invoices")).state).toBe("disabled");
    const [entry] = await audit.recent({ targetType: "agent", targetId: "n8n-invoices" });
    expect(entry?.action).toBe("agent.disabled");
  });

  it("retires an agent with its access, and restores it on a later apply", async () => {
    await registry.setState("bobs", "disabled", "replaced", cli);
    await registry.retire("bobs", cli);
    expect(await registry.find("bobs")).toBeUndefined();
    expect(await authorizer.read({ object: "agent:bobs" })).toEqual([]);
    const again = await registry.apply(
      validateManifest(manifest("bobs", { owner: "user:bob@example.com" })),
      cli,
    );
    expect(again.outcome).toBe("restored");
    expect(await directory.get(bob, "bobs")).toMatchObject({ retiredAt: null, state: "enabled" });
  });

  it("features an agent through updates, with an audit entry; a name registered again is not featured", async () => {
    await registry.apply(validateManifest(manifest("faq", { view: ["user:*"] })), cli);
    expect((await registry.setFeatured("faq", true, cli)).featured).toBe(true);
    expect((await directory.get(bob, "faq")).featured).toBe(true);
    const [entry] = await audit.recent({ targetType: "agent", targetId: "faq" });
    expect(entry?.action).toBe("agent.featured");
    const updated = await registry.apply(
      validateManifest(manifest("faq", { view: ["user:*"], title: "FAQ" })),
      cli,
    );
    expect(updated.agent?.featured).toBe(true);
    // Whoever registers a retired name again did not earn what the old agent had.
    await registry.retire("faq", cli);
    const again = await registry.apply(
      validateManifest(manifest("faq", { owner: "user:bob@example.com" })),
      cli,
    );
    expect(again.agent?.featured).toBe(false);
    expect((await registry.setFeatured("faq", false, cli)).featured).toBe(false);
  });
}
