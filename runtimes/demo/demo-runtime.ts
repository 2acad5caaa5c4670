import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { AgentRuntime, RuntimeEvent, TurnRequest } from "../runtime.js";

const demoSettings = z.strictObject({
  type: z.literal("demo"),
  /** Pause between streamed words, to show streaming; 0 in benches. */
  delay_ms: z.number().int().min(0).max(2_000).default(25),
});
export type DemoSettings = z.output<typeof demoSettings>;

const HELP = [
  "I'm the demo agent that comes with Switchboard.",
  "Every agent in the directory runs the way I do: mention @agents in Slack with an agent's name, or open it on the directory site, and keep talking in the same thread or chat — that's one session, and the agent remembers it.",
  "To add your own agent, write a manifest (see directory/examples) and run `switchboard agents apply FILE`.",
  "Ask me anything else and I'll repeat it back, with the turn number, so you can see the session carry on.",
].join(" ");

function answerTo(input: string, turn: number): string {
  if (/^\s*(help|what can you do|who are you|how)/i.test(input)) return HELP;
  return `You said: "${input.trim()}". This is turn ${turn} of our conversation.`;
}

/**
 * The built-in agent: needs no credentials, so a newcomer's first start has something to
 * run. Its session is the handle itself (a turn count), so it survives restarts.
 */
export class DemoRuntime implements AgentRuntime<DemoSettings> {
  readonly type = "demo";
  readonly settings = demoSettings;

  async *turn(request: TurnRequest<DemoSettings>): AsyncIterable<RuntimeEvent> {
    const previous = typeof request.handle?.turns === "number" ? request.handle.turns : 0;
    // The handle is stored as soon as it is yielded: a retry of the same run (its worker
    // died mid-turn) finds its own count there, and is the same turn, not the next.
    const turn = request.handle?.run_id === request.runId ? previous : previous + 1;
    yield { type: "handle", handle: { turns: turn, run_id: request.runId } };
    const answer = answerTo(request.input, turn);
    const words = answer.split(/(?<= )/);
    for (const word of words) {
      if (request.settings.delay_ms > 0) {
        await sleep(request.settings.delay_ms, undefined, { signal: request.signal }).catch(
          () => undefined,
        );
      }
      if (request.signal.aborted) return;
      yield { type: "message_delta", text: word };
    }
    yield { type: "message", text: answer };
    yield {
      type: "usage",
      usage: {
        model: "demo",
        inputTokens: request.input.split(/\s+/).filter(Boolean).length,
        outputTokens: words.length,
        costUsd: 0,
      },
    };
  }
}
