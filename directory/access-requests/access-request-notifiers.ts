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

/** What an agent's owners are asked (Markdown; the surface escapes the reason). */
export function accessRequestWords(request: AccessRequest): string {
  return `${request.requesterEmail} asks to run **${request.agentName}**: “${request.reason}”`;
}

/** What the person is told of the decision (Markdown; the surface escapes the reason). */
export function accessDecisionWords(request: AccessRequest): string {
  const by = request.decidedBy?.replace(/^user:/, "") ?? "an owner";
  const why = request.decisionReason ? `: “${request.decisionReason}”` : ".";
  return request.status === "approved"
    ? `${by} approved your request: you may now run **${request.agentName}**${why}`
    : `${by} denied your request to run **${request.agentName}**${why}`;
}
