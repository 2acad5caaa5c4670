import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeSettingsCheck } from "../../app/runs.js";
import { DaytonaRuntime, EgressPolicy, RUNTIME_ERROR_CODES } from "../../runtimes/index.js";
import { DaytonaApiDouble, useDaytonaDouble } from "../doubles/daytona-api.js";
import { InternalService } from "../doubles/internal-service.js";
import { collectTurn } from "../runtime-contract/collect-turn.js";
import { loopbackEgress } from "../support/egress.js";

/**
 * An agent's owner trying to get secrets into, or out of, a sandbox (Daytona, against its
 * wire double; the checks live in the vendor-neutral SandboxRuntime, so E2B has them too):
 * a provider key set as the harness's environment, the worker's environment or the vendor
 * key read from inside the sandbox, the run's proxy key left somewhere a person, a log or
 * the vendor's command history shows it, and a hostile vendor API pointing the toolbox at
 * an internal address.
 */

const DAYTONA_KEY = "dtn_security-account-key";
const PROXY_KEY = "sk-sb-security-proxy-key";
const GRANTED = "ghp_granted-to-this-agent";
const env = {
  DAYTONA_SEC_KEY: DAYTONA_KEY,
  GRANTED_TOKEN: GRANTED,
  DATABASE_URL: "postgres://operator:hunter2@db/prod",
  OTHER_AGENTS_KEY: "sk-ant-someone-elses",
};

const daytona = useDaytonaDouble(DAYTONA_KEY);
const runtime = new DaytonaRuntime({ egress: loopbackEgress });

const settings = (extra: Record<string, unknown> = {}) => ({
  type: "daytona",
  harness: "command",
  command: ["sh", "-c", "env > env-seen.txt; echo done", "agent", "{{input}}"],
  api_key: { env: "DAYTONA_SEC_KEY" },
  api_url: daytona.double.url,
  price_per_vcpu_hour_usd: 0.05,
  price_per_gib_hour_usd: 0.01,
  ...extra,
});

describe("secrets and sandboxes", () => {
  it("refuses a manifest that would put a provider key into the sandbox, at apply time", () => {
    const check = runtimeSettingsCheck({ RUNTIME_ENV_ALLOWLIST: ["DAYTONA_SEC_KEY"] });
    for (const name of [
      "ANTHROPIC_API_KEY",
      "OPENAI_API_KEY",
      "ANTHROPIC_BASE_URL",
      "OPENAI_BASE_URL",
    ]) {
      const problems = check(settings({ env: { [name]: { secret: "anthropic-prod-key" } } }));
      expect(problems).toContainEqual({
        path: `spec.runtime.env.${name}`,
        message: expect.stringMatching(/provider key may not enter a sandbox/),
      });
    }
    // A value instead of a reference is refused too: manifests are readable by viewers.
    expect(check(settings({ env: { TOKEN: GRANTED } }))[0]?.message).toMatch(/secret reference/);
  });

  it("gives the harness only the references its manifest names and the run's proxy key", async () => {
    const outcome = await collectTurn(
      runtime,
      settings({ env: { GITHUB_TOKEN: { env: "GRANTED_TOKEN" } } }),
      {
        sessionId: randomUUID(),
        input: "print your environment",
        env,
        modelProxy: { baseUrl: "http://proxy.example", apiKey: PROXY_KEY },
      },
    );
    expect(outcome.error).toBeUndefined();
    const sandboxId = outcome.handle?.sandboxId as string;
    const seen = daytona.double.fileOf(sandboxId, "env-seen.txt") ?? "";
    expect(seen).toContain(`GITHUB_TOKEN=${GRANTED}`);
    expect(seen).toContain(`OPENAI_API_KEY=${PROXY_KEY}`);
    for (const secret of [DAYTONA_KEY, "hunter2", "sk-ant-someone-elses"]) {
      expect(seen).not.toContain(secret);
    }
    // Nowhere else: not the handle or events, not Daytona's creation settings or command
    // history, not a file left on the sandbox's disk.
    const shown = JSON.stringify(outcome.events);
    const atDaytona = JSON.stringify([
      daytona.double.created,
      daytona.double.commands.map((c) => c.command),
    ]);
    for (const secret of [PROXY_KEY, GRANTED, DAYTONA_KEY]) {
      expect(shown).not.toContain(secret);
      expect(atDaytona).not.toContain(secret);
    }
    const dir = daytona.double.sandboxes.get(sandboxId)?.dir as string;
    expect(readdirSync(`${dir}/.switchboard`)).toEqual(["transcript.json"]);
  });

  it("resolves a reference the agent may not use to the same refusal, creating nothing", async () => {
    const outcome = await collectTurn(runtime, settings({ env: { DB: { env: "DATABASE_URL" } } }), {
      sessionId: randomUUID(),
      input: "hi",
      env: { DAYTONA_SEC_KEY: DAYTONA_KEY },
    });
    expect(outcome.error).toMatchObject({ code: RUNTIME_ERROR_CODES.missingSecret });
    expect((outcome.error as Error).message).not.toContain("hunter2");
    expect(daytona.double.created).toEqual([]);
    expect(daytona.double.commands).toEqual([]);
  });
});

describe("a hostile vendor API", () => {
  let internal: InternalService;
  let hostile: DaytonaApiDouble;

  beforeAll(async () => {
    internal = await InternalService.start("127.0.0.2");
    hostile = await DaytonaApiDouble.start({
      apiKey: DAYTONA_KEY,
      toolboxUrl: `http://127.0.0.2:${internal.port}/toolbox`,
    });
  });
  afterAll(async () => {
    await hostile.close();
    await internal.close();
  });

  it("naming an internal address as the sandbox's toolbox gets nothing sent there", async () => {
    const allowingTheApi = new DaytonaRuntime({
      egress: new EgressPolicy({ allow: ["127.0.0.1"] }),
    });
    const outcome = await collectTurn(
      allowingTheApi,
      { ...settings(), api_url: hostile.url },
      {
        sessionId: randomUUID(),
        input: "hi",
        env,
        modelProxy: { baseUrl: "http://proxy.example", apiKey: PROXY_KEY },
      },
    );
    expect(outcome.error).toMatchObject({
      code: RUNTIME_ERROR_CODES.egressRefused,
      retryable: false,
    });
    expect((outcome.error as Error).message).toMatch(/127\.0\.0\.2 is a private address/);
    expect(internal.connections).toBe(0);
  });
});
