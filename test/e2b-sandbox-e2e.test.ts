import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { E2bApiDouble } from "./doubles/e2b-api.js";
import { chatCompletion } from "./doubles/openai-wire.js";
import { json, UpstreamDouble } from "./doubles/upstream-double.js";
import { eventually } from "./support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { writeProxyConfig } from "./support/proxy-config.js";
import { serveWithAgents } from "./support/serve-with-agents.js";
import type { SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * The "done when" for E2B, through the REST API alone: `switchboard serve` on its
 * embedded defaults with its model proxy, an agent on `e2b` (the real `e2b` SDK against the
 * local double of E2B's API and envd) whose `command` harness is a shell script. It
 * answers two turns of one session in the same sandbox (a file written in turn 1 is read in
 * turn 2), asks a model through the proxy with the run's key from its environment, the
 * sandbox is paused between turns and destroyed when the session closes, and the run's cost
 * holds both the sandbox's time and the model call.
 */

const E2B_KEY = "e2b_e2e-secret-90c2d1";
const root = mkdtempSync(join(tmpdir(), "switchboard-e2b-e2e-"));

/**
 * Turn 1 keeps the person's words in notes.txt; every turn reads them back, writes the
 * proxy address and key it was given to proxy-env.txt, and asks the model through the proxy.
 */
const HARNESS = [
  "sh",
  "-c",
  [
    'n=$(( $(cat .turns 2>/dev/null || echo 0) + 1 )); echo "$n" > .turns',
    '[ "$n" = 1 ] && printf "%s" "$1" > notes.txt',
    'printf "%s\\n%s\\n" "$OPENAI_BASE_URL" "$OPENAI_API_KEY" > proxy-env.txt',
    'said=$(curl -s "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" -H "content-type: application/json" -d \'{"model":"small","messages":[{"role":"user","content":"hi"}]}\' | sed -n \'s/.*"content":"\\([^"]*\\)".*/\\1/p\')',
    'printf "turn %s; notes say: %s; the model said: %s\\n" "$n" "$(cat notes.txt)" "$said"',
  ].join("\n"),
  "agent",
  "{{input}}",
];

let e2b: E2bApiDouble;
let upstream: UpstreamDouble;
let serve: SwitchboardProcess;
let base: string;
let key: string;

async function api(method: string, path: string, body?: unknown) {
  const response = await apiRequest(base, key, method, path, body);
  return { status: response.status, body: await readJson(response) };
}

async function runToEnd(input: string, sessionId?: string): Promise<JsonBody> {
  const started = await api("POST", "/agents/sandboxed/runs", { input, session_id: sessionId });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  return eventually(async () => {
    const { body } = await api("GET", `/runs/${started.body.id}`);
    expect(body.status).toMatch(/succeeded|failed|cancelled/);
    return body;
  }, 60_000);
}

beforeAll(async () => {
  e2b = await E2bApiDouble.start({ apiKey: E2B_KEY });
  upstream = await UpstreamDouble.start("openai");
  const proxyConfig = writeProxyConfig(join(root, "proxy.yaml"), upstream.url);
  writeFileSync(
    join(root, "sandboxed.yaml"),
    stringify({
      apiVersion: "switchboard/v1",
      kind: "Agent",
      metadata: { name: "sandboxed", title: "Sandboxed", owner: "team:platform" },
      spec: {
        runtime: {
          type: "e2b",
          harness: "command",
          command: HARNESS,
          api_key: { env: "E2E_E2B_API_KEY" },
          api_url: e2b.apiUrl,
          sandbox_url: e2b.sandboxUrl,
          price_per_vcpu_hour_usd: 36,
          price_per_gib_hour_usd: 0,
        },
        access: { view: ["user:*"], run: ["user:*"] },
      },
    }),
  );
  const proxyPort = await freePort();
  ({ serve, base, key } = await serveWithAgents(
    join(root, "sandboxed.yaml"),
    {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      E2E_E2B_API_KEY: E2B_KEY,
      RUNTIME_ENV_ALLOWLIST: "E2E_E2B_API_KEY",
      UPSTREAM_KEY: "upstream-secret",
    },
    "ada@example.com",
    ["--proxy-config", proxyConfig, "--proxy-port", String(proxyPort)],
  ));
}, 200_000);

afterAll(async () => {
  serve?.signal("SIGTERM");
  await serve?.exited;
  await e2b?.close();
  await upstream?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("an agent in an E2B sandbox, through the API", { timeout: 180_000 }, () => {
  it("answers two turns in one sandbox, paused between them and destroyed with the session", async () => {
    const reply = () =>
      upstream.expect(
        "POST /v1/chat/completions",
        json(200, chatCompletion({ model: "gpt-4o-mini", content: "hello from the model" })),
      );
    const firstCall = reply();
    const first = await runToEnd("remember the blue door");
    expect(first, JSON.stringify(first.error)).toMatchObject({ status: "succeeded" });
    expect(first.output).toContain("turn 1; notes say: remember the blue door");
    expect(first.output).toContain("the model said: hello from the model");
    expect((await firstCall).headers.authorization).toBe("Bearer upstream-secret");

    const [sandbox] = [...e2b.sandboxes.values()];
    expect(e2b.sandboxes.size).toBe(1);
    expect(sandbox?.metadata).toMatchObject({
      "switchboard.session": first.session_id,
      "switchboard.deployment": expect.any(String),
      "switchboard.agent": expect.any(String),
    });
    // Paused once the turn ended.
    expect(sandbox?.state).toBe("paused");

    // The run's model proxy key and address reached the harness's environment (and only
    // as the process's environment: the sandbox itself was created without them).
    const [proxyUrl, proxyKey] = readFileSync(
      join(e2b.homeOf(sandbox?.id ?? ""), "proxy-env.txt"),
      "utf8",
    ).split("\n");
    expect(proxyUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(proxyKey).toMatch(/^sk-/);
    expect(JSON.stringify(e2b.created)).not.toContain(proxyKey);

    const secondCall = reply();
    const second = await runToEnd("what did I ask you to remember?", first.session_id);
    expect(second, JSON.stringify(second.error)).toMatchObject({
      status: "succeeded",
      session_id: first.session_id,
    });
    // Same sandbox, resumed: turn 2 read the file turn 1 wrote.
    expect(second.output).toContain("turn 2; notes say: remember the blue door");
    await secondCall;
    expect(e2b.sandboxes.size).toBe(1);
    expect(sandbox).toMatchObject({ state: "paused", pauses: 2, resumes: 1 });
    expect(e2b.started.map((command) => command.sandboxId)).toEqual([sandbox?.id, sandbox?.id]);

    // The run's cost: the sandbox's running time (36 $/vCPU-hour × 2 vCPUs, an estimate)
    // beside the model call booked through the proxy.
    const spend = await eventually(async () => {
      const { body } = await api("GET", "/spend?group_by=model");
      const items = body.items as Array<{ key: string; cost_usd: number }>;
      const sandboxTime = items.find((item) => item.key === "e2b-sandbox");
      const model = items.find((item) => item.key === "small");
      expect(sandboxTime?.cost_usd).toBeGreaterThan(0);
      expect(model?.cost_usd).toBeGreaterThan(0);
      return { sandboxTime, model };
    }, 20_000);
    expect(spend.sandboxTime).toBeDefined();
    await eventually(async () => {
      const { body } = await api("GET", `/runs/${second.id}`);
      expect(body.cost_usd).toBeGreaterThan(0);
    }, 20_000);

    // Closing the session destroys the sandbox.
    const closed = await api("POST", `/sessions/${first.session_id}/close`);
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body).toMatchObject({ status: "closed", runtime_closed: true });
    expect(e2b.sandboxes.size).toBe(0);
    expect(e2b.unexpectedRequests).toEqual([]);
    expect(upstream.unexpected).toEqual([]);
  });
});
