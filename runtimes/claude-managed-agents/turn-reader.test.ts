import type { BetaManagedAgentsStreamSessionEvents as StreamEvent } from "@anthropic-ai/sdk/resources/beta/sessions/events";
import { describe, expect, it } from "vitest";
import { TurnReader } from "./turn-reader.js";

const at = "2026-01-01T00:00:00Z";
const message = (id: string, text: string) =>
  ({
    type: "agent.message",
    id,
    processed_at: at,
    content: [{ type: "text", text }],
  }) as StreamEvent;
const delta = (id: string, text: string) =>
  ({
    type: "event_delta",
    event_id: id,
    delta: { type: "content_delta", content: { type: "text", text } },
  }) as StreamEvent;
const idle = (reason: string) =>
  ({
    type: "session.status_idle",
    id: "e",
    processed_at: at,
    stop_reason: { type: reason },
    stop_details: null,
  }) as StreamEvent;
const running = { type: "session.status_running", id: "r", processed_at: at } as StreamEvent;

function readAll(events: StreamEvent[]) {
  const reader = new TurnReader();
  const out = events.flatMap((event) => reader.read(event));
  return { reader, out };
}

describe("TurnReader", () => {
  it("shows a whole message as one piece when no previews came", () => {
    const { reader, out } = readAll([running, message("m1", "Hello there"), idle("end_turn")]);
    expect(out).toContainEqual({ type: "message_delta", text: "Hello there" });
    expect(reader.answer).toBe("Hello there");
    expect(reader.end).toEqual({ kind: "answered" });
  });

  it("does not repeat text the previews already showed, and fills in what they missed", () => {
    const { out } = readAll([
      running,
      delta("m1", "Hel"),
      delta("m1", "lo"),
      message("m1", "Hello there"),
      idle("end_turn"),
    ]);
    const shown = out
      .filter((event) => event.type === "message_delta")
      .map((event) => event.type === "message_delta" && event.text);
    expect(shown).toEqual(["Hel", "lo", " there"]);
  });

  it("ignores an idle from before this turn's message was taken", () => {
    const { reader } = readAll([idle("end_turn")]);
    expect(reader.end).toBeUndefined();
  });

  it("ends waiting for input when the agent needs an approval Switchboard cannot give", () => {
    const { reader, out } = readAll([running, idle("requires_action")]);
    expect(reader.end).toEqual({ kind: "input-required" });
    expect(out).toContainEqual(
      expect.objectContaining({ type: "status", status: "input-required" }),
    );
  });

  it("fails the turn, in plain words, on a refusal or a spent budget", () => {
    const refused = readAll([running, idle("refusal")]).reader.end;
    expect(refused?.kind === "failed" && refused.error.message).toMatch(/declined to answer/);
    const broke = readAll([running, idle("budget_reached")]).reader.end;
    expect(broke?.kind === "failed" && broke.error.message).toMatch(/spending limit/);
  });

  it("keeps the session's own error words short and on one line", () => {
    const long = `Sandbox crashed\n${"trace ".repeat(5_000)}`;
    const error = {
      type: "session.error",
      id: "x",
      processed_at: at,
      error: { type: "unknown_error", message: long, retry_status: { type: "retrying" } },
    } as unknown as StreamEvent;
    const { reader, out } = readAll([running, error, idle("retries_exhausted")]);
    const status = out.find((event) => event.type === "status" && event.status === "retrying");
    expect(status?.type === "status" && status.message?.length).toBeLessThanOrEqual(200);
    const end = reader.end;
    const failure = end?.kind === "failed" ? end.error.message : "";
    expect(failure).toMatch(/^The agent gave up after repeated errors: Sandbox crashed trace/);
    expect(failure.length).toBeLessThan(300);
    expect(failure).not.toContain("\n");
  });
});
