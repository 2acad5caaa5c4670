import { isSwitchboardError } from "../../core/index.js";
import {
  type AccessRequest,
  type AccessRequests,
  accessOutcomeQuotes,
  MAX_ACCESS_REASON_CHARS,
} from "../../directory/index.js";
import type { ChatActionClick, ChatActionKind, ChatOffer } from "./action-registry.js";
import type { ChatCore } from "./chat-core.js";
import type { ChatPrompt } from "./chat-surface.js";

/**
 * Access requests in chat, once for every surface:
 * - `approve_access` / `deny_access`: the buttons on what an agent's owners are asked. The
 *   button carries only its ChatActions id (the request id is in the stored payload); the
 *   clicking person's right (an owner of the agent) is checked on every click, whoever the
 *   message went to; the decision applies once however often it arrives (AccessRequests'
 *   conditional update), so a later click is told what stands and its message shows it.
 *   Deny takes a reason: Slack asks in a form, Teams has a field on the card.
 * - `request_access`: the button on a refusal to run an agent the person may see but not
 *   run. It files a request for whoever clicks (for themselves only), with the reason they
 *   write (starting from their request's first words).
 */

const DENY_PROMPT: ChatPrompt = {
  title: "Deny access",
  label: "Why not? The person is told (optional)",
  submit: "Deny",
  optional: true,
  maxLength: MAX_ACCESS_REASON_CHARS,
};

function requestPrompt(agentName: string, summary: string): ChatPrompt {
  return {
    title: "Request access",
    label: `Why do you need ${agentName}? Its owners read this`,
    submit: "Ask the owners",
    value: summary || undefined,
    optional: false,
    maxLength: MAX_ACCESS_REASON_CHARS,
  };
}

/** The Approve and Deny buttons on what an agent's owners are asked. */
export function accessRequestButtons(requestId: string): ChatOffer[] {
  const payload = { requestId };
  return [
    { label: "Approve", kind: "approve_access", payload, style: "primary" },
    { label: "Deny", kind: "deny_access", payload, style: "danger", prompt: DENY_PROMPT },
  ];
}

/** The "Request access" button under a refusal; `request` is what the person asked the agent. */
export function requestAccessButton(agentName: string, request: string): ChatOffer {
  const summary = firstWords(request);
  return {
    label: "Request access",
    kind: "request_access",
    payload: { agentName, summary },
    style: "primary",
    prompt: requestPrompt(agentName, summary),
  };
}

export interface AccessRequestKindOptions {
  /**
   * Remembers where a request was asked from in chat (the conversation the click came from),
   * so the person is told the decision there when the surface cannot reach them directly.
   */
  askedFrom?: ((requestId: string, target: object) => Promise<void>) | undefined;
}

export function accessRequestKinds(
  requests: AccessRequests,
  options: AccessRequestKindOptions = {},
): ChatActionKind[] {
  const authorize: ChatActionKind["authorize"] = async (principal, payload) => {
    const request = await requests.get(String(payload.requestId));
    if (!request) return "This request no longer exists.";
    return (await requests.mayDecide(principal, request.agentName))
      ? undefined
      : `You may not decide this request: only the owners of ${request.agentName} may.`;
  };
  const decide = (decision: "approve" | "deny"): ChatActionKind => ({
    kind: decision === "approve" ? "approve_access" : "deny_access",
    singleUse: false,
    authorize,
    async handle(click, payload) {
      const id = String(payload.requestId);
      if (decision === "deny" && click.input === undefined && click.ask) {
        // Asked for a reason first, unless it is decided already (then say what stands).
        const found = await requests.get(id);
        if (found?.status === "pending") return click.ask(DENY_PROMPT);
      }
      try {
        const result = await requests.decide(click.principal, id, {
          decision,
          reason: decision === "deny" ? click.input || undefined : undefined,
        });
        const { request } = result;
        if (!result.applied) {
          // Who decided is in the message (as written), not in these words.
          await click.tell(`This request was already ${request.status}; nothing changed.`);
          await settleStanding(click, request);
          return;
        }
        await click.settle(`${request.status} the request to run **${request.agentName}**.`, {
          byClicker: true,
          quotes: accessOutcomeQuotes(request).filter((q) => q.label !== "Decided by"),
        });
      } catch (error) {
        if (!isSwitchboardError(error) || error.status >= 500) throw error;
        await click.tell(error.message);
      }
    },
  });
  const ask: ChatActionKind = {
    kind: "request_access",
    singleUse: false,
    // Anyone may ask, and only for themselves: whoever clicks is who asks. What makes no
    // sense (an agent they may not see, or may run already) the service refuses in words.
    async authorize() {
      return undefined;
    },
    async handle(click, payload) {
      const agentName = String(payload.agentName);
      const summary = String(payload.summary ?? "");
      if (click.input === undefined && click.ask) {
        return click.ask(requestPrompt(agentName, summary));
      }
      const reason = click.input || summary || "Asked from chat after a refused run.";
      try {
        const filed = await requests.file(click.principal, agentName, reason);
        if (click.replyTarget) await options.askedFrom?.(filed.request.id, click.replyTarget);
        const words = filed.created
          ? `I asked the owners of **${agentName}** to let you run it. You'll get a message when they decide.`
          : `You asked for **${agentName}** already; its owners have not decided yet. You'll get a message when they do.`;
        if (click.replyTarget) await click.chat.say(click.replyTarget, words);
        else await click.tell(words);
      } catch (error) {
        if (!isSwitchboardError(error) || error.status >= 500) throw error;
        await click.tell(error.message);
      }
    },
  };
  return [decide("approve"), decide("deny"), ask];
}

/** The owner's message shows the decision that stands (another owner's, or the site's). */
async function settleStanding(click: ChatActionClick, request: AccessRequest): Promise<void> {
  await click.settle(standingWords(request), { quotes: accessOutcomeQuotes(request) });
}

function standingWords(request: AccessRequest): string {
  return `This request to run **${request.agentName}** was ${request.status}.`;
}

/**
 * Once a request is decided (in chat, on the site, through the API), every owner's copy of
 * it on this surface shows the decision and who made it, its buttons gone.
 */
export async function replaceAccessRequestMessages(
  chat: Pick<ChatCore<object>, "replaceOffers">,
  request: AccessRequest,
): Promise<void> {
  await chat.replaceOffers(
    "approve_access",
    { key: "requestId", value: request.id },
    standingWords(request),
    accessOutcomeQuotes(request),
  );
}

/** A request's first words: where a reason starts from. */
function firstWords(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
