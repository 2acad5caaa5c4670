import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JsonBody, readJson } from "../support/http.js";
import { freePort } from "../support/ports.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";

/**
 * Input no field can take, sent by a signed-in person to a real `switchboard serve`: a NUL
 * character (PostgreSQL refuses it deep inside a query), a runtime object nested 40,000
 * deep (recursive validation overflows the stack), a "gzip" body that is not gzip. Each is
 * a 400 that says what is wrong and where; nothing is half-written and the server stays up.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-malformed-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? "";

function manifest(name: string, title: string, runtime: unknown = { type: "demo" }) {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name, title, owner: "user:mallory@example.com" },
    spec: { runtime, access: { run: ["user:*"] } },
  };
}

/** `{"a":[[[…]]]}` as text: JSON.stringify itself would recurse that deep. */
function nested(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

const databases = [
  { name: "the embedded default (PGlite)", postgres: false },
  { name: "PostgreSQL", postgres: true },
];

describe.each(databases)("malformed input on $name", { timeout: 180_000 }, ({ postgres }) => {
  let database: TestDatabase | undefined;
  let server: SwitchboardProcess;
  let base: string;
  let key: string;

  const api = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body,
    });

  async function refusal(response: Response): Promise<JsonBody> {
    expect(response.status).toBe(400);
    return (await readJson(response)).error as JsonBody;
  }

  beforeAll(async () => {
    const port = await freePort();
    database = postgres ? await createTestDatabase("malformed") : undefined;
    const env: Record<string, string> = {
      PORT: String(port),
      LOG_LEVEL: "warn",
      ...(database ? { DATABASE_URL: database.url } : { SWITCHBOARD_DATA_DIR: join(root, "data") }),
    };
    if (database) expect((await runSwitchboard(["migrate", "up"], env)).code).toBe(0);
    const created = await runSwitchboard(["keys", "create", "--user", "mallory@example.com"], env);
    key = lastLine(created.stdout);
    // An ordinary person in a team, so she may register agents of her own.
    const joined = await runSwitchboard(
      ["authz", "grant", "mallory@example.com", "member", "team:sales"],
      env,
    );
    expect(joined.code, joined.stderr).toBe(0);
    server = new SwitchboardProcess(["serve"], env);
    base = `http://127.0.0.1:${port}`;
    await server.waitFor(`${base}/readyz`);
    const demo = await api("POST", "/agents", JSON.stringify(manifest("plain", "Plain")));
    expect(demo.status).toBe(201);
  });

  afterAll(async () => {
    await server?.kill();
    await database?.drop();
  });

  it("refuses a NUL character in a manifest, naming the field, and registers nothing", async () => {
    const error = await refusal(
      await api("POST", "/agents", JSON.stringify(manifest("nul-title", "bad\u0000title"))),
    );
    expect(error.message).toContain("metadata.title");
    expect(error.message).toContain("NUL");
    expect((await api("GET", "/agents/nul-title")).status).toBe(404);
  });

  it("refuses a NUL character in a run's input", async () => {
    const error = await refusal(
      await api("POST", "/agents/plain/runs", JSON.stringify({ input: "reset\u0000me" })),
    );
    expect(error.message).toMatch(/input contains a NUL character/);
    const sessions = (await readJson(await api("GET", "/sessions"))) as JsonBody;
    expect(sessions.items).toEqual([]);
  });

  it("refuses half a surrogate pair in a manifest or a run's input (jsonb refused it: a 500)", async () => {
    const title = await refusal(
      await api("POST", "/agents", JSON.stringify(manifest("half-title", "P\udc00"))),
    );
    expect(title.message).toContain("metadata.title contains half of a UTF-16 surrogate pair");
    expect((await api("GET", "/agents/half-title")).status).toBe(404);
    const input = await refusal(
      await api("POST", "/agents/plain/runs", JSON.stringify({ input: "a\ud800b" })),
    );
    expect(input.message).toMatch(/input contains half of a UTF-16 surrogate pair \(\\ud800\)/);
  });

  it("refuses a path that is not UTF-8 or carries a NUL, in words", async () => {
    const path = await refusal(await api("GET", "/agents/%E0%A4%A"));
    expect(path.message).toMatch(/not UTF-8 text/);
    expect((await refusal(await api("GET", "/runs/%00"))).message).toMatch(/path contains a NUL/);
  });

  it("refuses a NUL character in a search filter", async () => {
    const error = await refusal(await api("GET", "/agents?q=a%00b"));
    expect(error.message).toContain("q contains a NUL character");
  });

  it("refuses a runtime object nested 40,000 deep", async () => {
    const body = JSON.stringify(manifest("deep", "Deep", { type: "http", url: "http://x" }));
    const deep = body.replace('"url":"http://x"', `"url":"http://x","extra":${nested(40_000)}`);
    const error = await refusal(await api("POST", "/agents", deep));
    expect(error.message).toMatch(/spec\.runtime\.extra.* is nested more than \d+ levels deep/);
    expect((await api("GET", "/agents/deep")).status).toBe(404);
  });

  it("refuses a gzip body that is not gzip, and still takes one that is", async () => {
    const input = JSON.stringify({ input: "hello" });
    const error = await refusal(
      await api("POST", "/agents/plain/runs", input, { "content-encoding": "gzip" }),
    );
    expect(error.message).toContain("could not be decompressed");
    const zipped = await fetch(`${base}/api/v1/agents/plain/runs`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        "content-encoding": "gzip",
      },
      body: gzipSync(input),
    });
    expect(zipped.status).toBe(201);
  });

  it("answers the site's search with a NUL character as a page in words", async () => {
    const response = await fetch(`${base}/?q=a%00b`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("NUL character");
  });

  it("is still serving afterwards", async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await api("GET", "/agents/plain")).status).toBe(200);
  });
});

describe("malformed manifests on the command line", () => {
  it("reports a NUL character by file, line and field", async () => {
    const file = join(root, "nul.yaml");
    writeFileSync(
      file,
      [
        "apiVersion: switchboard/v1",
        "kind: Agent",
        "metadata:",
        "  name: nul",
        '  title: "bad\\0title"',
        "  owner: team:x",
        "spec:",
        "  runtime:",
        "    type: demo",
      ].join("\n"),
    );
    const validated = await runSwitchboard(["agents", "validate", file], {
      SWITCHBOARD_DATA_DIR: join(root, "cli-data"),
    });
    expect(validated.code).toBe(1);
    expect(validated.stderr).toContain(`${file}:5: metadata.title: contains a NUL character`);
  });
});
