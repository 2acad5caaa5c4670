import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import {
  AccessPolicy,
  type Authorizer,
  EmbeddedAuthorizer,
  loadPolicyModel,
  OpenFgaAuthorizer,
  UserDirectory,
} from "../../authz/index.js";
import { createTestDatabase } from "../../test/support/postgres.js";
import { createDirectoryServices, type DirectoryServices } from "../directory-services.js";
import { Deactivation } from "./deactivation.js";
import type { GroupMap } from "./scim-groups.js";
import { createScimRouter, SCIM_BASE } from "./scim-router.js";
import { ScimService } from "./scim-service.js";

export const SCIM_TEST_TOKEN = "scim-test-token-0123456789abcdefghijklmnop";

export interface ScimStack {
  /** http://127.0.0.1:PORT/scim/v2 */
  base: string;
  db: Database;
  authorizer: Authorizer;
  users: UserDirectory;
  services: DirectoryServices;
  /** A SCIM request with the token; JSON in and out. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  close(): Promise<void>;
}

export type ScimBackend = "pglite" | "postgres";

/**
 * The SCIM router over a real database (PGlite or PostgreSQL) and a real authorizer (the
 * embedded evaluator, or an OpenFGA server when `openFgaUrl` is given), on a real port.
 */
export async function startScimStack(options: {
  backend: ScimBackend;
  openFgaUrl?: string | undefined;
  groupMap?: GroupMap;
}): Promise<ScimStack> {
  let db: Database;
  let dropDatabase = async () => {};
  if (options.backend === "postgres") {
    const test = await createTestDatabase("scim");
    db = await openDatabase({ url: test.url, dataDir: "" });
    dropDatabase = () => test.drop();
  } else {
    const dir = mkdtempSync(join(tmpdir(), "switchboard-scim-"));
    db = await openDatabase({ dataDir: dir });
    dropDatabase = async () => rmSync(dir, { recursive: true, force: true });
  }
  await migrateLatest(db);
  const authorizer = options.openFgaUrl
    ? await OpenFgaAuthorizer.connect({
        apiUrl: options.openFgaUrl,
        storeName: `scim-${Math.random().toString(36).slice(2)}`,
        modelDsl: loadPolicyModel(),
      })
    : await EmbeddedAuthorizer.open({ knex: db.knex, modelDsl: loadPolicyModel() });
  const access = new AccessPolicy(authorizer, 5_000);
  const services = createDirectoryServices({ knex: db.knex, authorizer, access });
  const users = new UserDirectory(db.knex);
  const service = new ScimService({
    users,
    teams: services.registry.teams,
    memberships: services.memberships,
    deactivation: new Deactivation(services),
    audit: services.audit,
    groupMap: options.groupMap ?? {},
  });
  const app = express();
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${SCIM_BASE}`;
  app.use(SCIM_BASE, createScimRouter({ token: SCIM_TEST_TOKEN, service, baseUrl: base }));
  return {
    base,
    db,
    authorizer,
    users,
    services,
    call(method, path, body, headers = {}) {
      return fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${SCIM_TEST_TOKEN}`,
          ...(body === undefined ? {} : { "content-type": "application/scim+json" }),
          ...headers,
        },
        body:
          body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await authorizer.close();
      await db.close();
      await dropDatabase();
    },
  };
}
