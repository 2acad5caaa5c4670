import type { types } from "@slack/bolt";
import type { Run } from "../../sessions/index.js";
import { costText } from "../core/index.js";

/** Slack's `markdown` block takes standard Markdown, which is what agents write. */
const MARKDOWN_LIMIT = 11_000;

export function workingText(agentName: string): string {
  return `:hourglass_flowing_sand: *${agentName}* is working on it…`;
}

/** A run waiting for a place; `why` is Switchboard's own sentence (no text from people). */
export function waitingText(agentName: string, why: string): string {
  return `:hourglass: *${agentName}* is waiting to start. ${why}`;
}

/** The footer under an answer: who answered, what it cost, where the run is. */
function footer(agentName: string, costUsd: number, link: string): types.KnownBlock {
  const cost = costText(costUsd);
  const parts = [`*${agentName}*`, ...(cost ? [cost] : []), `<${link}|View on Switchboard>`];
  return { type: "context", elements: [{ type: "mrkdwn", text: parts.join("  ·  ") }] };
}

/** The answer as Markdown with its footer; `text` is the notification and fallback. */
export function answerBlocks(
  answer: string,
  options: { agentName: string; costUsd: number; link: string },
): { text: string; blocks: types.KnownBlock[] } {
  const shown =
    answer.length > MARKDOWN_LIMIT
      ? `${answer.slice(0, MARKDOWN_LIMIT)}\n\n… (the rest is on Switchboard)`
      : answer || "_(the agent answered with nothing)_";
  return {
    text: answer.slice(0, 3_000) || `${options.agentName} answered with nothing`,
    blocks: [
      { type: "markdown", text: shown },
      footer(options.agentName, options.costUsd, options.link),
    ],
  };
}

/** A run that did not succeed, in plain words, with where its record is. */
export function failureText(run: Run, agentName: string, link: string): string {
  if (run.status === "cancelled") {
    return `:stop_sign: *${agentName}* was stopped before it finished. <${link}|View on Switchboard>`;
  }
  const why = run.error?.message ?? "it failed without saying why";
  return `:warning: *${agentName}* couldn't finish: ${why}\nYour request and anything the agent said are kept on Switchboard: <${link}|view the run>.`;
}
