import { describe, expect, it } from "vitest";
import { RuntimeError } from "../runtime-error.js";
import { planHarness, TRANSCRIPT_FILE } from "./harness.js";
import type { SandboxSettings } from "./settings.js";
import { commandLine, exportLines, quote } from "./shell.js";

const settings = (extra: Partial<SandboxSettings>): SandboxSettings =>
  ({
    type: "daytona",
    harness: "command",
    auto_stop_minutes: 15,
    price_per_vcpu_hour_usd: 0,
    price_per_gib_hour_usd: 0,
    ...extra,
  }) as SandboxSettings;

const turn = { input: "hi", sessionId: "s-1", continues: false };
const exit = (exitCode: number, stdout = "", stderr = "") => ({ exitCode, stdout, stderr });

/** What `sh` makes of a command line: the words it runs. */
async function wordsOf(line: string): Promise<string[]> {
  const { execFileSync } = await import("node:child_process");
  const out = execFileSync("sh", [
    "-c",
    `for w in ${line.replace(/^\S+/, "")}; do printf '%s\\0' "$w"; done`,
  ]);
  return out.toString("utf8").split("\0").slice(0, -1);
}

describe("shell quoting", () => {
  it("leaves plain words alone and quotes everything else so the shell reads it back as it was", async () => {
    expect(quote("claude")).toBe("claude");
    expect(quote("")).toBe("''");
    const nasty = [`it's $HOME; rm -rf / && echo "x" \`id\``, "a\nb", "$(whoami)", "*", "'"];
    for (const value of nasty) {
      expect(await wordsOf(`x ${quote(value)}`)).toEqual([value]);
    }
  });

  it("writes environment files with quoted values and refuses names a shell cannot export", () => {
    expect(exportLines({ A: "x'y", B_2: "$(id)" })).toBe(
      `export A='x'"'"'y'\nexport B_2='$(id)'\n`,
    );
    expect(() => exportLines({ "A;rm": "x" })).toThrow(/not an environment variable name/);
  });
});

describe("harness presets", () => {
  it("claude-code starts in print mode with stream-json and continues later turns", () => {
    const first = planHarness(settings({ harness: "claude-code", model: "claude-sonnet-4-5" }), {
      ...turn,
      input: "fix it; now",
    });
    expect(first.cmd).toBe(
      "claude -p 'fix it; now' --output-format stream-json --verbose --dangerously-skip-permissions --model claude-sonnet-4-5",
    );
    const later = planHarness(settings({ harness: "claude-code" }), { ...turn, continues: true });
    expect(later.cmd).toMatch(/ --continue$/);
    expect(later.envs).toEqual({ IS_SANDBOX: "1" });
  });

  it("opencode runs `opencode run`, with --continue on later turns and the model as given", () => {
    expect(planHarness(settings({ harness: "opencode" }), turn).cmd).toBe("opencode run hi");
    expect(
      planHarness(settings({ harness: "opencode", model: "anthropic/claude-sonnet-4-5" }), {
        ...turn,
        continues: true,
      }).cmd,
    ).toBe("opencode run --continue --model anthropic/claude-sonnet-4-5 hi");
  });

  it("command fills the input, session id and transcript path in, each word quoted", () => {
    const plan = planHarness(
      settings({
        command: ["python3", "agent.py", "--q={{input}}", "{{session_id}}", "{{transcript_file}}"],
      }),
      { ...turn, input: "what's `up`?" },
    );
    expect(plan.cmd).toBe(
      commandLine(["python3", "agent.py", "--q=what's `up`?", "s-1", TRANSCRIPT_FILE]),
    );
    expect(plan.cmd).toContain(`'--q=what'"'"'s \`up\`?'`);
  });
});

describe("reading a harness's output", () => {
  it('streams stdout line by line and takes a final {"answer"} line as the outcome', () => {
    const { reader } = planHarness(settings({ command: ["a", "{{input}}"] }), turn);
    expect(reader.read("thinking")).toEqual([]);
    expect(reader.read("…\n")).toEqual([{ type: "message_delta", text: "thinking…\n" }]);
    expect(reader.read('{"answer": "42"}\n')).toEqual([]);
    expect(reader.finish(exit(0)).answer).toBe("42");
  });

  it("takes the output as the answer when the process exits 0 without an outcome line", () => {
    const { reader } = planHarness(settings({ command: ["a", "{{input}}"] }), turn);
    reader.read("line one\nline two");
    const done = reader.finish(exit(0));
    expect(done.events).toEqual([{ type: "message_delta", text: "line two" }]);
    expect(done.answer).toBe("line one\nline two");
  });

  it('fails the turn on a non-zero exit or an {"error"} line, with the agent\'s words', () => {
    const a = planHarness(settings({ command: ["a", "{{input}}"] }), turn).reader;
    a.read("partial\n");
    expect(() => a.finish(exit(2, "", "Traceback: boom"))).toThrow(
      /failed \(exit code 2\): Traceback: boom/,
    );
    const b = planHarness(settings({ command: ["a", "{{input}}"] }), turn).reader;
    b.read('{"error": "no such repo"}\n');
    let error: unknown;
    try {
      b.finish(exit(0));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe("agent_failed");
    expect((error as RuntimeError).message).toMatch(/no such repo/);
  });

  it("reads Claude Code's stream-json: text as deltas, tool calls, the result as the answer", () => {
    const { reader } = planHarness(settings({ harness: "claude-code" }), turn);
    const lines = [
      { type: "system", subtype: "init", session_id: "x" },
      { type: "assistant", message: { content: [{ type: "text", text: "Looking." }] } },
      {
        type: "assistant",
        message: {
          content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } }],
        },
      },
      { type: "result", subtype: "success", is_error: false, result: "Done: 3 files." },
    ].map((line) => `${JSON.stringify(line)}\n`);
    const events = [
      reader.read(lines.join("").slice(0, 40)),
      reader.read(lines.join("").slice(40)),
    ].flat();
    expect(events).toEqual([
      { type: "message_delta", text: "Looking." },
      { type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } },
    ]);
    expect(reader.finish(exit(0)).answer).toBe("Done: 3 files.");
    const failing = planHarness(settings({ harness: "claude-code" }), turn).reader;
    failing.read(
      `${JSON.stringify({ type: "result", is_error: true, result: "Credit balance too low" })}\n`,
    );
    expect(() => failing.finish(exit(1))).toThrow(/Credit balance too low/);
  });
});
