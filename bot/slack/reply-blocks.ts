import type { types } from "@slack/bolt";
import type { Run } from "../../sessions/index.js";
import { costText } from "../chat/index.js";
import { agentMarkdown, escapeMrkdwn, fitRendered } from "./mrkdwn.js";

/**
 * Slack's `markdown` block takes standard Markdown, which is what agents write; it holds
 * 12,000 characters, and escaping makes text longer, so the rendered answer is cut here.
 */
const MARKDOWN_LIMIT = 11_000;
/** The notification text beside blocks; Slack cuts long ones anyway. */
const NOTIFICATION_CHARS = 3_000;

export function workingText(agentName: string): string {
  return `:hourglass_flowing_sand: *${agentName}* is working on it…`;
}

/** A run waiting for a place; `why` is Switchboard's own sentence, escaped all the same. */
export function waitingText(agentName: string, why: string): string {
  return `:hourglass: *${escapeMrkdwn(agentName)}* is waiting to start. ${escapeMrkdwn(why)}`;
}

/** The footer under an answer: who answered, what it cost, where the run is. */
function footer(agentName: string, costUsd: number, link: string): types.KnownBlock {
  const cost = costText(costUsd);
  const parts = [`*${agentName}*`, ...(cost ? [cost] : []), `<${link}|View on Switchboard>`];
  return { type: "context", elements: [{ type: "mrkdwn", text: parts.join("  ·  ") }] };
}

/**
 * The answer as Markdown with its footer; `text` is the notification and fallback. Both are
 * escaped: an agent's `<!channel>` or masked link reaches nobody (see mrkdwn.ts).
 */
export function answerBlocks(
  answer: string,
  options: { agentName: string; costUsd: number; link: string },
): { text: string; blocks: types.KnownBlock[] } {
  const rendered = agentMarkdown(answer);
  const shown =
    rendered.length > MARKDOWN_LIMIT
      ? `${fitRendered(rendered, MARKDOWN_LIMIT)}\n\n… (the rest is on Switchboard)`
      : rendered || "_(the agent answered with nothing)_";
  return {
    text:
      agentMarkdown(answer.slice(0, NOTIFICATION_CHARS)) ||
      `${options.agentName} answered with nothing`,
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
  // The error's words may be the agent's own (an error body's message): escaped like them.
  const why = escapeMrkdwn(run.error?.message ?? "it failed without saying why");
  return `:warning: *${agentName}* couldn't finish: ${why}\nYour request and anything the agent said are kept on Switchboard: <${link}|view the run>.`;
}
