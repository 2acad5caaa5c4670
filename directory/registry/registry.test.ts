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
const carol = person("carol@example.com");
const root = person("root@example.com");
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
      { user: "user:bob@example.com", relation: "member", object: "team:research" },
      { user: "user:carol@example.com", relation: "member", object: "team:research" },
      { user: "user:root@example.com", relation: "admin", object: "platform:switchboard" },
    ]);
    // As `switchboard authz grant bob member team:research` does: the team comes with its tuples.
    await registry.teams.ensure(["research"]);
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
    // From any surface (Slack's /agents search too): words in error, not a failed query.
    await expect(directory.list(bob, { q: "in\u0000voice" })).rejects.toMatchObject({
      status: 400,
      message: "The search's q contains a NUL character (\\u0000), which no text field takes.",
    });
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

  it("lists the enabled agents a person may run, page by page (the MCP server's tools)", async () => {
    const dan = person("dan@example.com");
    const grant = { view: ["user:dan@example.com"], run: ["user:dan@example.com"] };
    for (const name of ["run-a", "run-b", "run-c", "run-paused"]) {
      await registry.apply(validateManifest(manifest(name, grant)), cli);
    }
    await registry.apply(validateManifest(manifest("run-view-only", { view: grant.view })), cli);
    await registry.apply(validateManifest(manifest("run-others", { run: ["team:research"] })), cli);
    await registry.setState("run-paused", "suspended", "maintenance", cli);
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await directory.listRunnable(dan, { cursor, limit: 2 });
      names.push(...page.items.map((agent) => agent.name));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor);
    expect(names).toEqual(["run-a", "run-b", "run-c"]);
    expect(pages).toBeLessThanOrEqual(3);
    // Viewing is not running: bob may view triage (everyone may) but run only what he is given.
    const bobs = (await directory.listRunnable(bob, { limit: 100 })).items.map((a) => a.name);
    expect(bobs).toContain("run-others");
    expect(bobs).not.toContain("run-a");
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

  it("registers a retired agent's name for another owner as a new agent, with none of its access", async () => {
    const old = await registry.apply(
      validateManifest(manifest("helpdesk", { owner: "user:bob@example.com" })),
      cli,
    );
    await authorizer.write([
      { user: "user:ada@example.com", relation: "editor", object: "agent:helpdesk" },
    ]);
    await directory.retire(bob, "helpdesk");
    const taken = await directory.create(
      carol,
      manifest("helpdesk", { owner: "user:carol@example.com" }),
    );
    expect(taken.outcome).toBe("created");
    expect(taken.agent?.id).not.toBe(old.agent?.id);
    // The old agent's hand-granted editor went with it; the new one has only its own grants.
    expect(
      (await authorizer.read({ object: "agent:helpdesk" })).map((t) => `${t.relation}@${t.user}`),
    ).not.toContain("editor@user:ada@example.com");
    expect((await registry.findById(old.agent?.id as string))?.retiredAt).toBeInstanceOf(Date);
    const [entry] = await audit.recent({ targetType: "agent", targetId: "helpdesk" });
    expect(entry).toMatchObject({
      actor: "user:carol@example.com",
      action: "agent.created",
      details: { agent_id: taken.agent?.id },
    });
  });

  it("restores a retired agent only for its own owner, and says so while the name is taken", async () => {
    const [retired] = (await db
      .knex("agents")
      .where({ name: "helpdesk" })
      .whereNotNull("retired_at")) as { id: string }[];
    // Carol's live helpdesk is hidden from bob: his answer does not say it exists.
    const blocked = await directory
      .create(bob, manifest("helpdesk", { owner: "user:bob@example.com" }))
      .catch((error: unknown) => error);
    expect(blocked).toMatchObject({ status: 409, code: "name_unavailable" });
    expect((blocked as Error).message).toMatch(/not available.*cannot be restored/);
    expect((blocked as Error).message).not.toMatch(/exist/);
    await directory.retire(carol, "helpdesk");
    const restored = await directory.create(
      bob,
      manifest("helpdesk", { owner: "user:bob@example.com" }),
    );
    expect([restored.outcome, restored.agent?.id]).toEqual(["restored", retired?.id]);
    // The operator follows the same rule: another owner's manifest makes another agent.
    await registry.retire("helpdesk", cli);
    const operator = await registry.apply(
      validateManifest(manifest("helpdesk", { owner: "team:support" })),
      cli,
    );
    expect(operator.outcome).toBe("created");
    const rows = await db.knex("agents").where({ name: "helpdesk" }).select("id");
    expect(rows).toHaveLength(3);
  });

  it("answers a clash with a name the caller may not view without revealing the agent", async () => {
    // triage is visible to support only; n8n-invoices to everyone.
    const hidden = await directory
      .create(bob, manifest("triage", { owner: "user:bob@example.com" }))
      .catch((error: unknown) => error);
    expect(hidden).toMatchObject({ status: 409, code: "name_unavailable" });
    expect((hidden as Error).message).toBe(
      'The name "triage" is not available; choose another name. If you believe the name should be yours, ask a platform admin.',
    );
    const visible = await directory
      .create(bob, manifest("n8n-invoices", { owner: "user:bob@example.com" }))
      .catch((error: unknown) => error);
    expect(visible).toMatchObject({ status: 409, code: "conflict" });
    expect((visible as Error).message).toMatch(/already exists/);
  });

  it("lets team members and platform admins register, or only platform admins when so set", async () => {
    const stranger = person("stranger@example.com");
    const refused = await directory
      .create(stranger, manifest("strangers", { owner: "user:stranger@example.com" }))
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 403, code: "forbidden" });
    expect((refused as Error).message).toBe(
      "Only members of a team and platform admins may register agents here: ask a platform admin to add you to a team.",
    );
    expect((await directory.registration(bob)).allowed).toBe(true);

    const adminsOnly = new AgentRegistry(db.knex, authorizer, audit, { registration: "admins" });
    const strict = new AgentDirectory(adminsOnly, new AccessPolicy(authorizer, 5_000));
    try {
      expect((await adminsOnly.teams.syncRegistrars()).removed.sort()).toEqual([
        "research",
        "support",
      ]);
      await expect(
        strict.create(bob, manifest("bobs-second", { owner: "user:bob@example.com" })),
      ).rejects.toMatchObject({
        status: 403,
        message:
          "Only platform admins may register agents here: ask one to register the agent for you.",
      });
      expect(
        (await strict.create(root, manifest("roots", { owner: "user:root@example.com" }))).outcome,
      ).toBe("created");
      // A team made under this setting does not make its members registrars either.
      await adminsOnly.teams.ensure(["newcomers"]);
      expect(
        await authorizer.check({
          user: "team:newcomers#member",
          relation: "agent_registrar",
          object: "platform:switchboard",
        }),
      ).toBe(false);
    } finally {
      const back = await registry.teams.syncRegistrars();
      expect(back.added).toEqual(["newcomers", "research", "support"]);
    }
    expect((await directory.registration(bob)).allowed).toBe(true);
  });

  it("registers one of two agents created under one name at the same moment", async () => {
    const attempts = await Promise.allSettled([
      directory.create(bob, manifest("twin", { owner: "user:bob@example.com" })),
      directory.create(carol, manifest("twin", { owner: "user:carol@example.com" })),
    ]);
    expect(attempts.map((a) => a.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = attempts.find((a) => a.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ status: 409 });
    expect(await db.knex("agents").where({ name: "twin" }).select("id")).toHaveLength(1);
    // The winner keeps exactly its own access; none of the loser's grants stayed behind.
    const winner = await registry.require("twin");
    const keys = (tuples: { user: string; relation: string }[]) =>
      tuples.map((t) => `${t.relation}@${t.user}`).sort();
    expect(keys(await authorizer.read({ object: "agent:twin" }))).toEqual([
      `owner@${winner.owner}`,
      "platform@platform:switchboard",
    ]);
  });

  it("never turns a registration that lost the race for its name into an update of the winner", async () => {
    // The sequence of the race above when the loser's name check ran before the winner's row
    // landed: by the time the loser writes, the name is live. It must not take that agent over.
    await directory.create(bob, manifest("late-twin", { owner: "user:bob@example.com" }));
    const late = validateManifest(manifest("late-twin", { owner: "user:carol@example.com" }));
    await expect(
      registry.apply(late, { actor: "user:carol@example.com", createOnly: true }),
    ).rejects.toMatchObject({ status: 409 });
    expect((await registry.require("late-twin")).owner).toBe("user:bob@example.com");
    expect(
      (await authorizer.read({ object: "agent:late-twin" })).map((t) => `${t.relation}@${t.user}`),
    ).not.toContain("owner@user:carol@example.com");
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
