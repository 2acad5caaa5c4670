import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useDaytonaDouble } from "../../test/doubles/daytona-api.js";
import { collectTurn, type TurnOutcome } from "../../test/runtime-contract/collect-turn.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { eventually } from "../../test/support/eventually.js";
import type { RuntimeEvent } from "../runtime.js";
import { RuntimeError } from "../runtime-error.js";
import { LABELS } from "../sandbox/index.js";
import { DaytonaRuntime } from "./index.js";

const KEY = "dtn_daytona-adapter-secret";
const PROXY_KEY = "sk-sb-proxy-run-key-123";
const GITHUB = "ghp_granted-token-456";
const env = { DAYTONA_TEST_KEY: KEY, GITHUB_TEST_TOKEN: GITHUB, NOT_REFERENCED: "worker-only" };

const usageOf = (events: RuntimeEvent[]) =>
  events.flatMap((event) => (event.type === "usage" ? [event.usage] : []));

/** Neither key anywhere a person or a log could see. */
function expectNoSecrets(outcome: TurnOutcome): void {
  const seen = JSON.stringify(outcome.events) + String((outcome.error as Error)?.message ?? "");
  for (const secret of [KEY, PROXY_KEY, GITHUB]) expect(seen).not.toContain(secret);
}

describe("daytona runtime", () => {
  const daytona = useDaytonaDouble(KEY);
  const runtime = new DaytonaRuntime({ egress: loopbackEgress, deployment: "test-deployment" });

  const settingsWith = (extra: Record<string, unknown> = {}) => ({
    type: "daytona",
    harness: "command",
    command: ["sh", "-c", 'printf "%s\\n" "$1"', "agent", "{{input}}"],
    api_key: { env: "DAYTONA_TEST_KEY" },
    api_url: daytona.double.url,
    price_per_vcpu_hour_usd: 0.05,
    price_per_gib_hour_usd: 0,
    ...extra,
  });
  const turn = (
    input: string,
    more: Partial<Parameters<typeof collectTurn>[2]> = {},
    extra: Record<string, unknown> = {},
  ) => collectTurn(runtime, settingsWith(extra), { sessionId: randomUUID(), input, env, ...more });

  describe("settings", () => {
    const message = (extra: Record<string, unknown>) =>
      runtime.settings.safeParse(settingsWith(extra)).error?.issues[0]?.message;

    it("defaults Daytona's own API address and a 15-minute auto-stop", () => {
      const parsed = runtime.settings.safeParse({ ...settingsWith(), api_url: undefined });
      expect(parsed.data).toMatchObject({
        api_url: "https://app.daytona.io/api",
        auto_stop_minutes: 15,
      });
    });

    it("says what is wrong, in words an agent's owner can act on", () => {
      expect(message({ api_key: KEY })).toMatch(/secret reference.*never the value/);
      expect(message({ harness: "bash" })).toMatch(/"opencode", "claude-code" or "command"/);
      expect(message({ command: undefined })).toMatch(/required with harness "command"/);
      expect(message({ command: ["python3", "agent.py"] })).toMatch(/\{\{input\}\}/);
      expect(message({ harness: "opencode" })).toMatch(/only for harness "command"/);
      expect(message({ env: { ANTHROPIC_API_KEY: { secret: "my-anthropic-key" } } })).toMatch(
        /model proxy key.*provider key may not enter a sandbox/,
      );
      expect(message({ env: { "BAD-NAME": { secret: "x" } } })).toMatch(
        /environment variable name/,
      );
      expect(message({ env: { TOKEN: "plain-value" } })).toMatch(/secret reference/);
      expect(message({ price_per_vcpu_hour_usd: undefined })).toMatch(/vCPU-hour.*estimate/);
      expect(message({ cpu: 0 })).toMatch(/at least 1 vCPU/);
    });
  });

  it("creates the sandbox from the manifest, yields its handle first, answers, then stops it", async () => {
    const sessionId = randomUUID();
    const outcome = await turn(
      "hello there",
      { sessionId },
      {
        template: "acme/agent-snapshot:1",
        cpu: 2,
        memory_gib: 4,
        disk_gib: 10,
        auto_stop_minutes: 30,
        target: "eu",
        network: { allow_out: ["10.1.0.0/16", "api.github.com"] },
      },
    );
    expect(outcome.error).toBeUndefined();
    expect(daytona.double.created).toEqual([
      {
        snapshot: "acme/agent-snapshot:1",
        env: {},
        labels: {
          [LABELS.deployment]: "test-deployment",
          [LABELS.agent]: "00000000-0000-4000-8000-000000000001",
          [LABELS.session]: sessionId,
          "code-toolbox-language": "python",
        },
        target: "eu",
        cpu: 2,
        memory: 4,
        disk: 10,
        autoStopInterval: 30,
        networkAllowList: "10.1.0.0/16",
        domainAllowList: "api.github.com",
      },
    ]);
    const sandboxId = [...daytona.double.sandboxes.keys()][0] as string;
    expect(outcome.events[0]).toEqual({
      type: "handle",
      handle: { vendor: "daytona", sandboxId, cpu: 2, memoryGib: 4, turns: 0 },
    });
    expect(outcome.events[1]).toMatchObject({ type: "status", status: "session_started" });
    expect(outcome.text).toBe("hello there");
    expect(outcome.handle).toMatchObject({ sandboxId, turns: 1 });
    expect(daytona.double.stops).toEqual([sandboxId]);
    expect(daytona.double.sandboxes.get(sandboxId)?.state).toBe("stopped");
  });

  it("keeps files between turns: the second turn starts the stopped sandbox and reads turn 1's file", async () => {
    const sessionId = randomUUID();
    const command = [
      "sh",
      "-c",
      'cat notes.txt 2>/dev/null; echo "$1" >> notes.txt',
      "agent",
      "{{input}}",
    ];
    const first = await turn("remember: blue", { sessionId }, { command });
    const second = await turn("what colour?", { sessionId, handle: first.handle }, { command });
    expect(second.error).toBeUndefined();
    expect(second.text).toBe("remember: blue");
    expect(second.handle?.sandboxId).toBe(first.handle?.sandboxId);
    expect(daytona.double.created).toHaveLength(1);
    expect(daytona.double.requests).toContain(`POST /sandbox/${first.handle?.sandboxId}/start`);
    expect(daytona.double.stops).toEqual([first.handle?.sandboxId, first.handle?.sandboxId]);
  });

  it("gives the harness the run's proxy key and the referenced secrets, in its process only", async () => {
    const outcome = await turn(
      "check env",
      { modelProxy: { baseUrl: "http://proxy.internal:4000/", apiKey: PROXY_KEY } },
      {
        command: ["sh", "-c", "env > seen-env.txt; echo ok", "agent", "{{input}}"],
        env: { GITHUB_TOKEN: { env: "GITHUB_TEST_TOKEN" } },
      },
    );
    expect(outcome.error).toBeUndefined();
    const sandboxId = outcome.handle?.sandboxId as string;
    const seen = daytona.double.fileOf(sandboxId, "seen-env.txt") ?? "";
    expect(seen).toContain(`ANTHROPIC_API_KEY=${PROXY_KEY}`);
    expect(seen).toContain("ANTHROPIC_BASE_URL=http://proxy.internal:4000\n");
    expect(seen).toContain(`OPENAI_API_KEY=${PROXY_KEY}`);
    expect(seen).toContain("OPENAI_BASE_URL=http://proxy.internal:4000/v1\n");
    expect(seen).toContain(`GITHUB_TOKEN=${GITHUB}`);
    // Nothing the manifest did not reference, and never the Daytona key itself.
    expect(seen).not.toContain("worker-only");
    expect(seen).not.toContain(KEY);
    // Not on any command line Daytona keeps, not at creation, not left on the sandbox's disk.
    expect(JSON.stringify(daytona.double.commands.map((c) => c.command))).not.toContain(PROXY_KEY);
    expect(JSON.stringify(daytona.double.created)).not.toContain(PROXY_KEY);
    expect(daytona.double.fileOf(sandboxId, ".switchboard/transcript.json")).toBe("[]\n");
    const { readdirSync } = await import("node:fs");
    const scratch = readdirSync(`${daytona.double.sandboxes.get(sandboxId)?.dir}/.switchboard`);
    expect(scratch).toEqual(["transcript.json"]);
    expectNoSecrets(outcome);
  });

  it("books the sandbox's running time by its size, as an estimate", async () => {
    const outcome = await turn(
      "slow",
      {},
      {
        command: ["sh", "-c", "sleep 0.3; echo done", "agent", "{{input}}"],
        cpu: 2,
        memory_gib: 1,
        price_per_vcpu_hour_usd: 36,
        price_per_gib_hour_usd: 36,
      },
    );
    const [usage] = usageOf(outcome.events);
    expect(usage).toMatchObject({ model: "daytona-sandbox", costEstimated: true, inputTokens: 0 });
    // 3 size units × $36/h = $0.03 per second; the turn ran 0.3 s or more.
    expect(usage?.costUsd).toBeGreaterThanOrEqual(0.009);
    expect(usage?.costUsd).toBeLessThan(0.3);
  });

  it("reads a final JSON line as the outcome and fails the turn on a non-zero exit, in words", async () => {
    const answered = await turn(
      "q",
      {},
      {
        command: ["sh", "-c", 'echo working; echo \'{"answer": "forty-two"}\'', "a", "{{input}}"],
      },
    );
    expect(answered.text).toBe("forty-two");
    expect(answered.events).toContainEqual({ type: "message_delta", text: "working\n" });
    const failed = await turn(
      "q",
      {},
      {
        command: ["sh", "-c", "echo 'cannot open repo' >&2; exit 3", "a", "{{input}}"],
      },
    );
    expect(failed.error).toBeInstanceOf(RuntimeError);
    expect((failed.error as RuntimeError).code).toBe("agent_failed");
    expect((failed.error as RuntimeError).message).toMatch(/exit code 3\): cannot open repo/);
    // The sandbox is stopped after a failed turn too, and its time booked.
    expect(daytona.double.stops).toHaveLength(2);
    expect(usageOf(failed.events)).toHaveLength(1);
  });

  it("kills only the process when the run is cancelled; the next turn runs in the same sandbox", async () => {
    const sessionId = randomUUID();
    const first = await turn("start", { sessionId });
    const controller = new AbortController();
    const pending = turn(
      "long",
      { sessionId, handle: first.handle, signal: controller.signal },
      {
        command: ["sh", "-c", "echo started; sleep 30; echo finished > late.txt", "a", "{{input}}"],
      },
    );
    const long = () => daytona.double.commands.find((c) => c.command.includes("sleep 30"));
    await eventually(async () => expect(long()?.output.length).toBeGreaterThan(0));
    const child = long()?.child;
    controller.abort();
    const cancelled = await pending;
    expect(cancelled.error).toBeUndefined();
    expect(cancelled.events.some((e) => e.type === "message")).toBe(false);
    expect(daytona.double.kills()).toBe(1);
    await eventually(async () => expect(child?.exitCode ?? child?.signalCode).not.toBeNull());
    expect(daytona.double.stops).toHaveLength(2);
    const next = await turn("again", { sessionId, handle: first.handle });
    expect(next.error).toBeUndefined();
    expect(next.text).toBe("again");
    expect(next.handle?.sandboxId).toBe(first.handle?.sandboxId);
    expect(daytona.double.fileOf(first.handle?.sandboxId as string, "late.txt")).toBeUndefined();
  });

  it("replaces a sandbox Daytona deleted with a new one primed with the transcript", async () => {
    const sessionId = randomUUID();
    const first = await turn("remember 42", { sessionId });
    daytona.double.expireAll();
    const second = await turn(
      "which number?",
      {
        sessionId,
        handle: first.handle,
        transcript: [
          { role: "user", content: "remember 42" },
          { role: "agent", content: first.text },
        ],
      },
      {
        command: [
          "sh",
          "-c",
          'cat .switchboard/transcript.json; printf "%s" "$1"',
          "a",
          "{{input}}",
        ],
      },
    );
    expect(second.error).toBeUndefined();
    expect(second.events).toContainEqual(
      expect.objectContaining({ type: "status", status: "session_restarted" }),
    );
    expect(second.handle?.sandboxId).not.toBe(first.handle?.sandboxId);
    expect(second.text).toContain('"content": "remember 42"');
    expect(second.text).toMatch(/User: remember 42[\s\S]*which number\?$/);
  });

  it("destroys the sandbox when the session is closed; one already gone is no error", async () => {
    const first = await turn("hi");
    const settings = runtime.settings.parse(settingsWith());
    const secrets = async () => KEY;
    await runtime.closeSession(settings, first.handle ?? {}, secrets);
    expect(daytona.double.destroyed).toEqual([first.handle?.sandboxId]);
    expect(daytona.double.sandboxes.has(first.handle?.sandboxId as string)).toBe(false);
    await runtime.closeSession(settings, first.handle ?? {}, secrets);
  });

  it("refuses a key Daytona does not take, without retrying and without the key in words", async () => {
    const outcome = await turn("hi", { env: { ...env, DAYTONA_TEST_KEY: "dtn_wrong" } });
    expect(outcome.error).toBeInstanceOf(RuntimeError);
    expect((outcome.error as RuntimeError).retryable).toBe(false);
    expect((outcome.error as RuntimeError).message).toMatch(/refused the API key .*HTTP 401/);
    expect((outcome.error as RuntimeError).message).not.toContain("dtn_wrong");
    daytona.double.reset();
  });

  it("does not reach an internal address the egress policy refuses", async () => {
    const strict = new DaytonaRuntime();
    const outcome = await collectTurn(strict, settingsWith(), {
      sessionId: randomUUID(),
      input: "hi",
      env,
    });
    expect((outcome.error as RuntimeError).code).toBe("egress_refused");
    expect(daytona.double.requests).toEqual([]);
  });
});
