import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRequest, type JsonBody, readJson } from "../support/http.js";
import { freePort } from "../support/ports.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";
import {
  answerProblem,
  bodyText,
  FUZZ_SEED,
  fromSchema,
  fuzzRuns,
  nastyJson,
  nastyString,
  pathSegment,
  queryString,
  toJsonText,
} from "./arbitraries.js";

/**
 * Every route of the REST API (read from its own OpenAPI document, so a new route is fuzzed
 * the day it lands) and of SCIM, given generated paths, queries and bodies by a platform
 * admin and by an ordinary person, against a real `switchboard serve` on PGlite and on
 * PostgreSQL (they differ on NUL and half surrogate pairs). Each answer is a success or a 4xx
 * in words, within 15 s; the process stays up; and afterwards the tables tell one story: no
 * session without a run, no agent without its tuples, no tuples without their agent.
 */

const SCIM_TOKEN = "fuzz-scim-token-0123456789-0123456789-abcdef";
const ADMIN = "admin@example.com";
const PERSON = "mallory@example.com";
/** The agent runs go to: the built-in demo, owned by someone whose key nobody here holds. */
const RUN_TARGET = "steady-demo";
const REQUEST_TIMEOUT_MS = 15_000;

const root = mkdtempSync(join(tmpdir(), "switchboard-fuzz-api-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? "";

interface Operation {
  method: string;
  path: string;
  query: string[];
  body: Record<string, unknown> | undefined;
}

interface GeneratedRequest {
  method: string;
  url: string;
  key: "admin" | "person";
  body: string | undefined;
  contentType: string;
}

const databases = [
  { name: "the embedded default (PGlite)", postgres: false },
  { name: "PostgreSQL", postgres: true },
];

describe.each(databases)(
  "generated input to the REST API and SCIM on $name",
  {
    timeout: 300_000,
  },
  ({ postgres }) => {
    let database: TestDatabase | undefined;
    let dataDir: string;
    let server: SwitchboardProcess;
    let base: string;
    const keys = { admin: "", person: "" };
    const real = { runs: [] as string[], sessions: [] as string[], budgets: [] as string[] };

    beforeAll(async () => {
      const port = await freePort();
      database = postgres ? await createTestDatabase("fuzz_api") : undefined;
      dataDir = join(root, postgres ? "pg" : "pglite");
      const env: Record<string, string> = {
        PORT: String(port),
        LOG_LEVEL: "warn",
        SWITCHBOARD_ADMINS: ADMIN,
        SCIM_TOKEN,
        // The secret store on, as in production (the embedded default keeps a key file).
        SECRETS_KEYS: `fuzz:${Buffer.alloc(32, 7).toString("base64")}`,
        ...(database ? { DATABASE_URL: database.url } : { SWITCHBOARD_DATA_DIR: dataDir }),
      };
      if (database) expect((await runSwitchboard(["migrate", "up"], env)).code).toBe(0);
      for (const [which, email] of [
        ["admin", ADMIN],
        ["person", PERSON],
      ] as const) {
        keys[which] = lastLine(
          (await runSwitchboard(["keys", "create", "--user", email], env)).stdout,
        );
      }
      expect(
        (await runSwitchboard(["authz", "grant", PERSON, "member", "team:sales"], env)).code,
      ).toBe(0);
      server = new SwitchboardProcess(["serve"], env);
      base = `http://127.0.0.1:${port}`;
      await server.waitFor(`${base}/readyz`, 90_000);
      const registered = await apiRequest(base, keys.admin, "POST", "/agents", {
        apiVersion: "switchboard/v1",
        kind: "Agent",
        metadata: { name: RUN_TARGET, title: "Steady", owner: "user:owner@example.com" },
        spec: { runtime: { type: "demo" }, access: { view: ["user:*"], run: ["user:*"] } },
      });
      expect(registered.status).toBe(201);
      const run = await readJson(
        await apiRequest(base, keys.person, "POST", `/agents/${RUN_TARGET}/runs`, { input: "hi" }),
      );
      real.runs.push(run.id);
      real.sessions.push(run.session_id);
      const budget = await readJson(
        await apiRequest(base, keys.admin, "POST", "/budgets", {
          scope: "team:sales",
          period: "month",
          amount_usd: 100,
          mode: "approval",
        }),
      );
      real.budgets.push(budget.id);
    }, 300_000);

    afterAll(async () => {
      await server?.kill();
      await database?.drop();
    });

    /** Sends one generated request; what is wrong with its answer, or undefined. */
    async function send(request: GeneratedRequest): Promise<string | undefined> {
      let response: Response;
      try {
        response = await fetch(`${base}${request.url}`, {
          method: request.method,
          headers: {
            authorization: `Bearer ${request.key === "admin" ? keys.admin : keys.person}`,
            ...(request.body === undefined ? {} : { "content-type": request.contentType }),
          },
          body: request.body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (error) {
        return `no answer within ${REQUEST_TIMEOUT_MS} ms (${(error as Error).message}); the server ${server.exit ? `exited: ${JSON.stringify(server.exit)}\n${server.stderr.slice(-2000)}` : "is still running"}`;
      }
      // A run's event stream stays open while the run goes on: its status is the answer.
      if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
        await response.body?.cancel();
        return answerProblem(response.status, "");
      }
      return answerProblem(response.status, await response.text());
    }

    function operationRequest(op: Operation, components: Record<string, Record<string, unknown>>) {
      const agentNames = op.path.endsWith("/runs")
        ? [RUN_TARGET]
        : [RUN_TARGET, "fuzz-a", "fuzz-b"];
      const segments: Record<string, fc.Arbitrary<string>> = {
        name: pathSegment(op.path.startsWith("/secrets") ? ["fuzz-secret", "token"] : agentNames),
        agent: pathSegment(agentNames),
        id: pathSegment(
          op.path.startsWith("/runs")
            ? real.runs
            : op.path.startsWith("/sessions")
              ? real.sessions
              : op.path.startsWith("/budgets")
                ? real.budgets
                : ["00000000-0000-4000-8000-000000000000"],
        ),
      };
      const names = (slug: string[]) => fc.constantFrom(...slug);
      const strings: Record<string, fc.Arbitrary<string>> = {
        name: fc.oneof(
          names(["fuzz-a", "fuzz-b", "fuzz-secret"]),
          fc.stringMatching(/^[a-z][a-z0-9-]{2,12}$/),
        ),
        owner: names([`user:${PERSON}`, "team:sales", `user:${ADMIN}`]),
        scope: names(["platform", "team:sales", `agent:${RUN_TARGET}`, `user:${PERSON}`]),
        session_id: names(real.sessions),
        team: names(["sales", "platform"]),
        apiVersion: names(["switchboard/v1"]),
        kind: names(["Agent"]),
        // Never a public address: nothing generated here may send traffic off this machine.
        url: names(["http://127.0.0.1:9/agent", "http://[::1]:9/", "not a url"]),
      };
      const template = op.body ? fromSchema(op.body, components, strings) : nastyJson;
      const path = fc
        .tuple(
          ...op.path.split("/").map((part) => {
            const param = /^\{(\w+)\}$/.exec(part)?.[1];
            return param ? (segments[param] ?? pathSegment(["x"])) : fc.constant(part);
          }),
        )
        .map((parts) => parts.join("/"));
      return fc.record({
        method: fc.constant(op.method.toUpperCase()),
        url: fc.tuple(path, queryString(op.query)).map(([p, q]) => `/api/v1${p}${q}`),
        key: fc.constantFrom("admin" as const, "person" as const),
        body:
          op.body || op.method !== "get"
            ? fc.option(bodyText(template), { freq: 8, nil: undefined })
            : fc.constant(undefined),
        contentType: fc.oneof(
          { weight: 8, arbitrary: fc.constant("application/json") },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              "application/json; charset=utf-16",
              "text/plain",
              "application/x-www-form-urlencoded",
            ),
          },
        ),
      });
    }

    it("answers every generated API request with a success or a 4xx in words, and stays up", async () => {
      const document = await readJson(await fetch(`${base}/api/v1/openapi.json`));
      const components = (document.components?.schemas ?? {}) as Record<
        string,
        Record<string, unknown>
      >;
      const operations: Operation[] = [];
      for (const [path, methods] of Object.entries(document.paths as Record<string, JsonBody>)) {
        for (const [method, op] of Object.entries(methods)) {
          operations.push({
            method,
            path,
            query: ((op.parameters ?? []) as JsonBody[])
              .filter((p) => p.in === "query")
              .map((p) => p.name),
            body: op.requestBody?.content?.["application/json"]?.schema,
          });
        }
      }
      expect(operations.length).toBeGreaterThan(30);
      const request = fc.oneof(...operations.map((op) => operationRequest(op, components)));
      await fc.assert(
        fc.asyncProperty(request, async (generated) => {
          const problem = await send(generated);
          expect(problem, `${generated.method} ${generated.url.slice(0, 300)}`).toBeUndefined();
          expect(server.exit).toBeUndefined();
        }),
        { seed: FUZZ_SEED, numRuns: fuzzRuns(400), endOnFailure: true },
      );
    });

    it("answers every generated SCIM request with a success or a 4xx in SCIM's words, and stays up", async () => {
      const user = fc.record(
        {
          schemas: fc.oneof(fc.constant(["urn:ietf:params:scim:schemas:core:2.0:User"]), nastyJson),
          userName: fc.oneof(fc.constantFrom("ada@example.com", "bo@example.com"), nastyString),
          externalId: nastyString,
          active: fc.oneof(fc.boolean(), nastyJson),
          name: fc.record(
            { givenName: nastyString, familyName: nastyString },
            { requiredKeys: [] },
          ),
          emails: fc.oneof(
            fc.array(
              fc.record(
                {
                  value: fc.oneof(fc.constant("ada@example.com"), nastyString),
                  primary: fc.boolean(),
                  type: nastyString,
                },
                { requiredKeys: [] },
              ),
              { maxLength: 2 },
            ),
            nastyJson,
          ),
        },
        { requiredKeys: [] },
      );
      const group = fc.record(
        {
          schemas: fc.oneof(
            fc.constant(["urn:ietf:params:scim:schemas:core:2.0:Group"]),
            nastyJson,
          ),
          displayName: fc.oneof(fc.constantFrom("Sales", "fuzzers"), nastyString),
          externalId: nastyString,
          members: fc.oneof(
            fc.array(fc.record({ value: nastyString }), { maxLength: 2 }),
            nastyJson,
          ),
        },
        { requiredKeys: [] },
      );
      const patch = fc.record({
        schemas: fc.constant(["urn:ietf:params:scim:api:messages:2.0:PatchOp"]),
        Operations: fc.array(
          fc.record(
            {
              op: fc.oneof(fc.constantFrom("add", "replace", "remove", "Replace"), nastyString),
              path: fc.oneof(
                fc.constantFrom(
                  "active",
                  "userName",
                  "members",
                  'members[value eq "x"]',
                  "name.givenName",
                  "__proto__.x",
                ),
                nastyString,
              ),
              value: nastyJson,
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
      });
      const filter = fc
        .oneof(
          fc
            .tuple(
              fc.constantFrom("userName", "displayName", "externalId", "emails.value"),
              fc.constantFrom("eq", "co", "sw", "pr", "gt"),
              nastyString,
            )
            .map(([a, o, v]) => `${a} ${o} ${JSON.stringify(v)}`),
          nastyString,
          fc.constantFrom('userName eq "\\u0000"', 'userName eq "\\ud800"', `${"(".repeat(600)}x`),
        )
        .map((text) => `filter=${encodeURIComponentLoose(text)}`);
      const resource = fc.constantFrom("Users", "Groups");
      const id = pathSegment(["00000000-0000-4000-8000-000000000000"]);
      const scimRequest = fc.oneof(
        fc
          .tuple(
            resource,
            fc.oneof(
              filter,
              fc.constantFrom(
                "startIndex=1e309",
                "count=-5",
                "startIndex=NaN",
                "count=99999999999999999999",
                "excludedAttributes=members",
              ),
            ),
          )
          .map(([r, q]) => ({ method: "GET", url: `/${r}?${q}`, body: undefined })),
        fc
          .tuple(resource, id)
          .map(([r, i]) => ({ method: "GET", url: `/${r}/${i}`, body: undefined })),
        user.map((u) => ({ method: "POST", url: "/Users", body: toJsonText(u) })),
        group.map((g) => ({ method: "POST", url: "/Groups", body: toJsonText(g) })),
        fc
          .tuple(resource, id, fc.oneof(user, group))
          .map(([r, i, b]) => ({ method: "PUT", url: `/${r}/${i}`, body: toJsonText(b) })),
        fc
          .tuple(resource, id, patch)
          .map(([r, i, b]) => ({ method: "PATCH", url: `/${r}/${i}`, body: toJsonText(b) })),
        fc
          .tuple(resource, bodyText(fc.oneof(user, group)))
          .map(([r, body]) => ({ method: "POST", url: `/${r}`, body })),
        fc
          .tuple(resource, id)
          .map(([r, i]) => ({ method: "DELETE", url: `/${r}/${i}`, body: undefined })),
      );
      await fc.assert(
        fc.asyncProperty(scimRequest, async (generated) => {
          let response: Response;
          try {
            response = await fetch(`${base}/scim/v2${generated.url}`, {
              method: generated.method,
              headers: {
                authorization: `Bearer ${SCIM_TOKEN}`,
                ...(generated.body === undefined
                  ? {}
                  : { "content-type": "application/scim+json" }),
              },
              body: generated.body,
              signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            });
          } catch (error) {
            expect.fail(
              `${generated.method} ${generated.url}: no answer (${(error as Error).message})`,
            );
          }
          const text = await response.text();
          expect(
            answerProblem(response.status, text),
            `${generated.method} ${generated.url}`,
          ).toBeUndefined();
          expect(server.exit).toBeUndefined();
        }),
        { seed: FUZZ_SEED, numRuns: fuzzRuns(250), endOnFailure: true },
      );
    });

    it("leaves the tables consistent: no session without a run, no agent without its tuples", async () => {
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      server.signal("SIGTERM");
      expect((await server.exited).code).toBe(0);
      const query = database
        ? postgresQuery(database.url)
        : await pgliteQuery(join(dataDir, "pgdata"));
      try {
        expect(
          await query(
            "select s.id from sessions s where not exists (select 1 from runs r where r.session_id = s.id)",
          ),
        ).toEqual([]);
        expect(
          await query(`select a.name from agents a where a.retired_at is null and not exists
          (select 1 from authz_tuples t where t.object = 'agent:' || a.name and t.relation = 'platform')`),
        ).toEqual([]);
        expect(
          await query(`select distinct t.object from authz_tuples t where t.object like 'agent:%'
          and not exists (select 1 from agents a where 'agent:' || a.name = t.object)`),
        ).toEqual([]);
        // The run the fuzzing started from is still there, with its session.
        expect(await query(`select id from runs where id = '${real.runs[0]}'`)).toHaveLength(1);
      } finally {
        await query.close();
      }
    });
  },
);

/** Like encodeURIComponent, but a half surrogate pair is sent as the bytes a careless client would send. */
function encodeURIComponentLoose(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text.replace(/[^A-Za-z0-9]/g, (c) => {
      const code = c.charCodeAt(0);
      return code >= 0xd800 && code <= 0xdfff ? "%ED%A0%80" : encodeURIComponent(c);
    });
  }
}

type Query = ((sql: string) => Promise<unknown[]>) & { close(): Promise<void> };

function postgresQuery(url: string): Query {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return Object.assign(async (sql: string) => (await pool.query(sql)).rows, {
    close: () => pool.end(),
  });
}

async function pgliteQuery(dir: string): Promise<Query> {
  const db = await PGlite.create(dir);
  return Object.assign(async (sql: string) => (await db.query(sql)).rows, {
    close: () => db.close(),
  });
}
