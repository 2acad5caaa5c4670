import { excerpt } from "../excerpt.js";
import type { RuntimeEvent } from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import type { SandboxExit } from "./provider.js";
import type { SandboxSettings } from "./settings.js";
import { commandLine } from "./shell.js";

/** Where the session's transcript is written before each turn, relative to the working directory. */
export const TRANSCRIPT_FILE = ".switchboard/transcript.json";

/** What one turn hands the harness. */
export interface HarnessTurn {
  /** The person's input; on a new sandbox replacing a lost one, primed with the transcript. */
  input: string;
  sessionId: string;
  /** True when an earlier turn ran in this same sandbox: the preset continues its conversation. */
  continues: boolean;
}

/** Reads a harness's output as it streams, then its outcome. */
export interface OutputReader {
  /** A piece of stdout; returns what to show now. */
  read(chunk: string): RuntimeEvent[];
  /** The process ended: the rest to show, and the answer (or a RuntimeError thrown). */
  finish(exit: SandboxExit): { events: RuntimeEvent[]; answer: string };
}

export interface HarnessPlan {
  /** The shell command line, every value quoted. */
  cmd: string;
  /** Environment the harness itself needs (not secrets). */
  envs: Record<string, string>;
  reader: OutputReader;
}

/** The command line and output reader for this turn of `settings.harness`. */
export function planHarness(settings: SandboxSettings, turn: HarnessTurn): HarnessPlan {
  switch (settings.harness) {
    case "claude-code":
      return claudeCode(settings, turn);
    case "opencode":
      return opencode(settings, turn);
    default:
      return command(settings, turn);
  }
}

/**
 * Claude Code in print mode: `claude -p <input> --output-format stream-json --verbose`,
 * `--continue` on later turns (the most recent conversation in the working directory, which
 * is this session's: one sandbox per session). Permissions are skipped: the sandbox is the
 * boundary (IS_SANDBOX tells Claude Code it is in one, so it allows that as root).
 */
function claudeCode(settings: SandboxSettings, turn: HarnessTurn): HarnessPlan {
  const argv = ["claude", "-p", turn.input, "--output-format", "stream-json", "--verbose"];
  argv.push("--dangerously-skip-permissions");
  if (settings.model) argv.push("--model", settings.model);
  if (turn.continues) argv.push("--continue");
  return { cmd: commandLine(argv), envs: { IS_SANDBOX: "1" }, reader: new StreamJsonReader() };
}

/**
 * OpenCode's non-interactive mode: `opencode run <message>`, `--continue` on later turns
 * (the last session, this sandbox's), `--model provider/model` when the manifest names one.
 */
function opencode(settings: SandboxSettings, turn: HarnessTurn): HarnessPlan {
  const argv = ["opencode", "run"];
  if (turn.continues) argv.push("--continue");
  if (settings.model) argv.push("--model", settings.model);
  argv.push(turn.input);
  return { cmd: commandLine(argv), envs: {}, reader: new PlainTextReader(false) };
}

/**
 * Anything else: the manifest's argv with its placeholders filled in, each word quoted.
 * stdout streams as the answer; a last line `{"answer": "…"}` (or `{"error": "…"}`) is the
 * outcome, else the exit code is (0: the output is the answer).
 */
function command(settings: SandboxSettings, turn: HarnessTurn): HarnessPlan {
  const argv = (settings.command ?? ["{{input}}"]).map((word) =>
    word
      .replaceAll("{{input}}", turn.input)
      .replaceAll("{{session_id}}", turn.sessionId)
      .replaceAll("{{transcript_file}}", TRANSCRIPT_FILE),
  );
  return { cmd: commandLine(argv), envs: {}, reader: new PlainTextReader(true) };
}

function failed(exit: SandboxExit, reason?: string): RuntimeError {
  const detail = reason ?? (exit.stderr.trim() || exit.stdout.trim());
  return new RuntimeError(
    RUNTIME_ERROR_CODES.agentFailed,
    `The agent's process in the sandbox failed (exit code ${exit.exitCode})${detail ? `: ${excerpt(detail)}` : "."}`,
  );
}

/** A JSON object line, or undefined. */
function jsonLine(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return undefined;
  try {
    const value = JSON.parse(trimmed);
    return value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a stream into whole lines, keeping the unfinished tail. */
class Lines {
  private tail = "";
  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const parts = text.split("\n");
    this.tail = parts.pop() ?? "";
    return parts;
  }
  rest(): string {
    const rest = this.tail;
    this.tail = "";
    return rest;
  }
}

/**
 * stdout as the answer, streamed line by line. With `outcomeLine`, a JSON line
 * `{"answer": …}` or `{"error": …}` is the outcome and is not shown as text.
 */
export class PlainTextReader implements OutputReader {
  private readonly lines = new Lines();
  private shown = "";
  private outcome: Record<string, unknown> | undefined;

  constructor(private readonly outcomeLine: boolean) {}

  read(chunk: string): RuntimeEvent[] {
    return this.lines.push(chunk).flatMap((line) => this.line(`${line}\n`));
  }

  private line(line: string): RuntimeEvent[] {
    if (this.outcomeLine) {
      const json = jsonLine(line);
      if (json && (typeof json.answer === "string" || typeof json.error === "string")) {
        this.outcome = json;
        return [];
      }
    }
    if (line.trim() === "" && this.shown === "") return [];
    this.shown += line;
    return [{ type: "message_delta", text: line }];
  }

  finish(exit: SandboxExit): { events: RuntimeEvent[]; answer: string } {
    const rest = this.lines.rest();
    const events = rest ? this.line(rest) : [];
    if (typeof this.outcome?.error === "string") throw failed(exit, this.outcome.error);
    if (typeof this.outcome?.answer === "string") return { events, answer: this.outcome.answer };
    if (exit.exitCode !== 0) throw failed(exit);
    return { events, answer: this.shown.trim() };
  }
}

/** Claude Code's `stream-json`: assistant text as it comes, tool calls, the `result` line. */
export class StreamJsonReader implements OutputReader {
  private readonly lines = new Lines();
  private result: Record<string, unknown> | undefined;
  private text = "";

  read(chunk: string): RuntimeEvent[] {
    return this.lines.push(chunk).flatMap((line) => this.line(line));
  }

  private line(line: string): RuntimeEvent[] {
    const json = jsonLine(line);
    if (!json) return [];
    if (json.type === "result") {
      this.result = json;
      return [];
    }
    if (json.type !== "assistant") return [];
    const content = (json.message as { content?: unknown } | undefined)?.content;
    if (!Array.isArray(content)) return [];
    const events: RuntimeEvent[] = [];
    for (const block of content) {
      if (block?.type === "text" && typeof block.text === "string" && block.text) {
        this.text += (this.text ? "\n\n" : "") + block.text;
        events.push({ type: "message_delta", text: block.text });
      } else if (block?.type === "tool_use" && typeof block.name === "string") {
        events.push({
          type: "tool_use",
          name: block.name,
          input: block.input,
          ...(typeof block.id === "string" ? { id: block.id } : {}),
        });
      }
    }
    return events;
  }

  finish(exit: SandboxExit): { events: RuntimeEvent[]; answer: string } {
    const events = this.line(this.lines.rest());
    const result = this.result;
    if (result?.is_error === true) {
      throw failed(
        exit,
        typeof result.result === "string" ? result.result : String(result.subtype),
      );
    }
    if (exit.exitCode !== 0) throw failed(exit);
    const answer = typeof result?.result === "string" ? result.result : this.text;
    return { events, answer };
  }
}
