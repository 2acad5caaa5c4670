import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import {
  type Authorizer,
  EmbeddedAuthorizer,
  loadPolicyModel,
  OpenFgaAuthorizer,
  userPlacesOf,
} from "../../authz/index.js";
import { AuditLog } from "../../governance/index.js";
import { describeWithOpenFga } from "../../test/support/openfga-server.js";
import { validateManifest } from "../manifest/index.js";
import { AgentRegistry } from "./index.js";

/**
 * Retiring an agent takes away what was granted to it as well as its own access: a tuple
 * whose user is `agent:NAME` (a secret granted to the agent) must not pass to a new agent
 * that takes the name.
 */
const MODEL = loadPolicyModel();

const manifest = (owner: string) =>
  validateManifest({
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name: "mailer", title: "Mailer", owner },
    spec: { runtime: { type: "a2a" }, access: { view: [], run: [] } },
  });

const grant = { user: "agent:mailer", relation: "used_by", object: "secret:smtp-password" };
const cli = { actor: "system:cli" };

function describeRetire(openAuthorizer: (db: Database) => Promise<Authorizer>): void {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-retire-"));
  let db: Database;
  let authorizer: Authorizer;
  let registry: AgentRegistry;

  beforeAll(async () => {
    db = await openDatabase({ dataDir: dir });
    await migrateLatest(db);
    authorizer = await openAuthorizer(db);
    registry = new AgentRegistry(db.knex, authorizer, new AuditLog(db.knex), {
      agentUserPlaces: userPlacesOf("agent", MODEL),
    });
  }, 60_000);
  afterAll(async () => {
    await authorizer.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("finds where the model lets an agent be a tuple's user", () => {
    expect(userPlacesOf("agent", MODEL)).toEqual([{ objectType: "secret" }]);
  });

  it("removes the grants naming a retired agent, so a new agent of its name has none", async () => {
    await registry.apply(manifest("user:ada@example.com"), cli);
    await authorizer.write([grant]);
    expect(await authorizer.check(grant)).toBe(true);

    await registry.retire("mailer", cli);
    expect(await authorizer.read({ user: "agent:mailer", object: "secret:" })).toEqual([]);

    const successor = await registry.apply(manifest("user:mallory@example.com"), cli);
    expect(successor.outcome).toBe("created");
    expect(await authorizer.check(grant)).toBe(false);
  });
}

describe("retiring an agent with the embedded evaluator", () => {
  describeRetire((db) => EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: MODEL }));
});

describeWithOpenFga("retiring an agent with an OpenFGA server", (openFga) =>
  describeRetire(() =>
    OpenFgaAuthorizer.connect({ apiUrl: openFga().url, storeName: "retire", modelDsl: MODEL }),
  ),
);
