import type { Logger } from "pino";
import { FanOut } from "../../core/index.js";
import type { AccessRequest } from "./access-request.js";
import type { AccessRequestNotifier } from "./access-requests.js";

/**
 * Every surface that tells owners a request waits and the person what became of it (Slack,
 * Teams…), added as each starts: the service is made before the chat surfaces. A surface
 * that fails is logged and does not stop the others (the site and the API list it anyway).
 */
export class AccessRequestNotifiers implements AccessRequestNotifier {
  private readonly surfaces: FanOut<AccessRequestNotifier>;

  constructor(logger: Logger) {
    this.surfaces = new FanOut(logger);
  }

  add(notifier: AccessRequestNotifier): void {
    this.surfaces.add(notifier);
  }

  async requested(request: AccessRequest): Promise<void> {
    await this.surfaces.tell(
      (n) => n.requested(request),
      { access_request_id: request.id },
      "could not tell owners of a request",
    );
  }

  async decided(request: AccessRequest): Promise<void> {
    await this.surfaces.tell(
      (n) => n.decided?.(request),
      { access_request_id: request.id },
      "could not tell a person of a decision",
    );
  }
}

/**
 * A chat message about a request: Switchboard's words (Markdown, naming only the agent, whose
 * name is a slug) and people's words beside them (who asked, their reason, who decided and
 * why), which every surface shows exactly as written, never as its markup: a reason of
 * `<!channel>` or `[x](javascript:…)` must reach nobody and link nowhere.
 */
export interface AccessRequestNotice {
  words: string;
  quotes: { label: string; text: string }[];
}

const person = (subject: string | null) => subject?.replace(/^user:/, "") ?? "an owner";

/** What an agent's owners are asked. */
export function accessRequestNotice(request: AccessRequest): AccessRequestNotice {
  return {
    words: `Someone asks to run **${request.agentName}**, an agent you own. Approving lets them run it; denying tells them why.`,
    quotes: [
      { label: "Asked by", text: request.requesterEmail },
      { label: "Reason", text: request.reason },
    ],
  };
}

/** What the person is told of the decision. */
export function accessDecisionNotice(request: AccessRequest): AccessRequestNotice {
  const quotes = [{ label: "Decided by", text: person(request.decidedBy) }];
  if (request.decisionReason) quotes.push({ label: "Why", text: request.decisionReason });
  return { words: decisionWords(request), quotes };
}

/**
 * The decision told where the person asked, when no private chat reaches them: that may be a
 * channel's thread, so it names who asked and leaves an owner's reason for denying out (the
 * agent's page shows it to the person).
 */
export function sharedAccessDecisionNotice(request: AccessRequest): AccessRequestNotice {
  const quotes = [
    { label: "Asked by", text: request.requesterEmail },
    { label: "Decided by", text: person(request.decidedBy) },
  ];
  const words = decisionWords(request);
  return {
    words: request.decisionReason
      ? `${words} The owners' reason is on the agent's page, for you alone.`
      : words,
    quotes,
  };
}

function decisionWords(request: AccessRequest): string {
  return request.status === "approved"
    ? `Your request was approved: you may now run **${request.agentName}**.`
    : `Your request to run **${request.agentName}** was denied.`;
}

/** A decided request, as the owners' messages show it once it stands. */
export function accessOutcomeQuotes(request: AccessRequest): AccessRequestNotice["quotes"] {
  const quotes = [
    { label: "Asked by", text: request.requesterEmail },
    { label: "Reason", text: request.reason },
  ];
  if (request.status !== "pending")
    quotes.push({ label: "Decided by", text: person(request.decidedBy) });
  if (request.decisionReason) quotes.push({ label: "Why", text: request.decisionReason });
  return quotes;
}
