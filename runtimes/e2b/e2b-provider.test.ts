import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { E2bApiDouble } from "../../test/doubles/e2b-api.js";
import { loopbackEgress } from "../../test/support/egress.js";
import { isRuntimeError, RUNTIME_ERROR_CODES } from "../runtime-error.js";
import { SandboxGoneError } from "../sandbox/provider.js";
import { E2bSandboxProvider } from "./e2b-provider.js";

/**
 * The provider through the real `e2b` SDK against the local double of E2B's API and of
 * envd's process channel: commands really run in a folder per sandbox.
 */

const API_KEY = "e2b_test_4f1c9a2b7d3e8f60";
const LABELS = { "switchboard.agent": "coder", "switchboard.session": "s-1" };
const never = () => new AbortController().signal;

let e2b: E2bApiDouble;
let provider: E2bSandboxProvider;

beforeAll(async () => {
  e2b = await E2bApiDouble.start({
    apiKey: API_KEY,
    templates: { base: { cpuCount: 2, memoryMB: 512 }, big: { cpuCount: 8, memoryMB: 8192 } },
    pageSize: 2,
  });
  provider = new E2bSandboxProvider(
    { apiKey: API_KEY, apiUrl: e2b.apiUrl, sandboxUrl: e2b.sandboxUrl },
    { egress: loopbackEgress, timeoutSeconds: 600 },
  );
});

afterAll(async () => {
  await provider.close();
  await e2b.close();
});

afterEach(() => {
  expect(e2b.unexpectedRequests).toEqual([]);
});

async function fresh(labels: Record<string, string> = LABELS) {
  return provider.create({ template: "base", labels }, never());
}

describe("E2bSandboxProvider", () => {
  it("creates a sandbox from the template with Switchboard's labels, envs and time to live", async () => {
    const info = await provider.create(
      { template: "big", labels: LABELS, envs: { TZ: "UTC" }, timeoutSeconds: 900 },
      never(),
    );
    expect(info).toMatchObject({ labels: LABELS, state: "running", cpu: 8, memoryMb: 8192 });
    expect(info.createdAt).toBeInstanceOf(Date);
    expect(e2b.created.at(-1)).toMatchObject({
      templateID: "big",
      metadata: LABELS,
      envVars: { TZ: "UTC" },
      timeout: 900,
    });
    const out = await provider.exec(info.id, { cmd: "echo $TZ" }, never());
    expect(out).toEqual({ exitCode: 0, stdout: "UTC\n", stderr: "" });
  });

  it("asks E2B to block the sandbox's network, or to allow only the listed hosts", async () => {
    await provider.create({ labels: LABELS, network: { blockAll: true } }, never());
    expect(e2b.created.at(-1)).toMatchObject({ templateID: "base", allow_internet_access: false });
    await provider.create(
      { labels: LABELS, network: { allowOut: ["proxy.example.com"] } },
      never(),
    );
    expect(e2b.created.at(-1)?.network).toEqual({
      allowOut: ["proxy.example.com"],
      denyOut: ["0.0.0.0/0"],
    });
  });

  it("keeps state between commands: a file written by one is read by the next", async () => {
    const { id } = await fresh();
    await provider.exec(id, { cmd: "mkdir -p work && echo 'turn one' > work/note.txt" }, never());
    const read = await provider.exec(id, { cmd: "cat work/note.txt" }, never());
    expect(read.stdout).toBe("turn one\n");
    expect(existsSync(join(e2b.homeOf(id), "work", "note.txt"))).toBe(true);
  });

  it("streams stdout as the process writes it, and reports stderr and the exit code", async () => {
    const { id } = await fresh();
    const chunks: { text: string; at: number }[] = [];
    const started = Date.now();
    const exit = await provider.exec(
      id,
      {
        cmd: "echo first; sleep 0.6; echo second; echo oops >&2; exit 3",
        onStdout: (text) => chunks.push({ text, at: Date.now() - started }),
      },
      never(),
    );
    expect(exit).toEqual({ exitCode: 3, stdout: "first\nsecond\n", stderr: "oops\n" });
    expect(chunks.map((chunk) => chunk.text)).toEqual(["first\n", "second\n"]);
    // The first line arrived well before the process ended.
    expect((chunks[1]?.at ?? 0) - (chunks[0]?.at ?? 0)).toBeGreaterThan(400);
  });

  it("gives a command its stdin, working folder and environment", async () => {
    const { id } = await fresh();
    const exit = await provider.exec(
      id,
      {
        cmd: 'mkdir -p repo && cd repo && pwd && cat && echo "key=$OPENAI_API_KEY"',
        stdin: "line from stdin\n",
        envs: { OPENAI_API_KEY: "sk-run-key" },
      },
      never(),
    );
    expect(exit.exitCode).toBe(0);
    expect(exit.stdout).toContain("line from stdin\nkey=sk-run-key\n");
    const inRepo = await provider.exec(id, { cmd: "touch here", cwd: "/home/user/repo" }, never());
    expect(inRepo.exitCode).toBe(0);
    expect(existsSync(join(e2b.homeOf(id), "repo", "here"))).toBe(true);
  });

  it("writes files, creating their folders, for the next command to read", async () => {
    const { id } = await fresh();
    await provider.writeFile(id, ".switchboard/transcript.json", '{"turns":[]}', never());
    await provider.writeFile(id, "/home/user/abs/ok.txt", "absolute", never());
    const read = await provider.exec(
      id,
      { cmd: "cat .switchboard/transcript.json; echo; cat abs/ok.txt" },
      never(),
    );
    expect(read.stdout).toBe('{"turns":[]}\nabsolute');
  });

  it("pauses a sandbox and resumes it with its files", async () => {
    const { id } = await fresh();
    await provider.exec(id, { cmd: "echo kept > kept.txt" }, never());
    await provider.suspend(id);
    expect(e2b.sandboxes.get(id)?.state).toBe("paused");
    // Pausing twice is not an error (E2B answers 409).
    await provider.suspend(id);
    await provider.resume(id, never());
    expect(e2b.sandboxes.get(id)).toMatchObject({ state: "running", pauses: 1, resumes: 1 });
    const read = await provider.exec(id, { cmd: "cat kept.txt" }, never());
    expect(read.stdout).toBe("kept\n");
  });

  it("says a sandbox E2B deleted or expired is gone, on resume and on exec", async () => {
    const { id } = await fresh();
    e2b.forget(id);
    await expect(provider.resume(id, never())).rejects.toBeInstanceOf(SandboxGoneError);

    const other = await fresh();
    await provider.exec(other.id, { cmd: "true" }, never());
    e2b.forget(other.id);
    await expect(provider.exec(other.id, { cmd: "true" }, never())).rejects.toBeInstanceOf(
      SandboxGoneError,
    );
    await expect(provider.suspend(other.id)).rejects.toBeInstanceOf(SandboxGoneError);
  });

  it("kills the process when the turn is aborted, and the sandbox runs the next command", async () => {
    const { id } = await fresh();
    const controller = new AbortController();
    const reason = new Error("cancelled by the person");
    const running = provider.exec(
      id,
      { cmd: "echo started; sleep 30; echo late > late.txt" },
      controller.signal,
    );
    await sleep(400);
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    const sandbox = e2b.sandboxes.get(id);
    expect(sandbox?.signals).toEqual([{ pid: expect.any(Number), signal: "SIGNAL_SIGKILL" }]);
    for (let i = 0; i < 50 && (sandbox?.processes.size ?? 0) > 0; i++) await sleep(20);
    expect(sandbox?.processes.size).toBe(0);
    const next = await provider.exec(id, { cmd: "echo still here" }, never());
    expect(next.stdout).toBe("still here\n");
    expect(existsSync(join(e2b.homeOf(id), "late.txt"))).toBe(false);
  });

  it("lists every sandbox carrying the labels, across pages", async () => {
    const mine = { "switchboard.deployment": "d-list", "switchboard.agent": "lister" };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await fresh({ ...mine, "switchboard.session": `s${i}` })).id);
    await fresh({ "switchboard.deployment": "d-list", "switchboard.agent": "someone-else" });
    await provider.suspend(ids[0] ?? "");
    const listed = await provider.list(mine);
    expect(listed.map((info) => info.id).sort()).toEqual([...ids].sort());
    expect(listed.find((info) => info.id === ids[0])?.state).toBe("paused");
    expect(listed[0]).toMatchObject({
      cpu: 2,
      memoryMb: 512,
      labels: expect.objectContaining(mine),
    });
    // The double pages by two: three pages were read.
    expect(e2b.calls.filter((call) => call === "GET /v2/sandboxes").length).toBeGreaterThanOrEqual(
      3,
    );
  });

  it("destroys a sandbox, and destroying one E2B no longer has is fine", async () => {
    const { id } = await fresh();
    await provider.destroy(id);
    expect(e2b.sandboxes.has(id)).toBe(false);
    await provider.destroy(id);
    await provider.destroy("i-never-existed");
  });

  it("fails a refused create in words, retryable for a 5xx, never quoting the API key", async () => {
    e2b.failCreates = { status: 503, count: 1, message: `no capacity for key ${API_KEY}` };
    const error = await fresh().catch((caught: unknown) => caught);
    expect(isRuntimeError(error) && error.retryable).toBe(true);
    expect(String((error as Error).message)).not.toContain(API_KEY);

    e2b.failCreates = { status: 400, count: 1, message: `bad request from ${API_KEY}` };
    const rejected = await fresh().catch((caught: unknown) => caught);
    expect(rejected).toMatchObject({ code: RUNTIME_ERROR_CODES.rejected, retryable: false });
    expect((rejected as Error).message).toContain("[redacted]");
    expect((rejected as Error).message).not.toContain(API_KEY);
  });

  it("answers a wrong API key with words about the key, not the key", async () => {
    const wrong = "e2b_wrong_key_0000000000";
    const stranger = new E2bSandboxProvider(
      { apiKey: wrong, apiUrl: e2b.apiUrl, sandboxUrl: e2b.sandboxUrl },
      { egress: loopbackEgress },
    );
    const error = await stranger
      .create({ labels: LABELS }, never())
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: RUNTIME_ERROR_CODES.rejected });
    expect((error as Error).message).toMatch(/API key/);
    expect(JSON.stringify(error)).not.toContain(wrong);
    expect((error as Error).message).not.toContain(wrong);
    e2b.unexpectedRequests.length = 0;
  });

  it("reaches no internal address the egress policy refuses: a bare provider refuses loopback", async () => {
    const before = e2b.calls.length;
    const bare = new E2bSandboxProvider({
      apiKey: API_KEY,
      apiUrl: e2b.apiUrl,
      sandboxUrl: e2b.sandboxUrl,
    });
    const error = await bare.create({ labels: LABELS }, never()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: RUNTIME_ERROR_CODES.egressRefused, retryable: false });
    expect((error as Error).message).toContain("127.0.0.1");
    expect(e2b.calls.length).toBe(before);
  });
});
