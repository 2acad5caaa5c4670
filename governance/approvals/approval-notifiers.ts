import type { Logger } from "pino";
import { FanOut } from "../../core/index.js";
import type { Approval } from "./approval.js";
import type { ApprovalNotifier, ApproverQuery, ThresholdNotice } from "./approvals.js";

/**
 * Every surface that tells approvers a run waits (Slack, Teams…), added as each starts: the
 * runs service is made before the chat surfaces, and holds this one. A surface that fails
 * is logged and does not stop the others (the site's inbox and the API list it anyway).
 */
export class ApprovalNotifiers implements ApprovalNotifier {
  private readonly surfaces: FanOut<ApprovalNotifier>;

  constructor(logger: Logger) {
    this.surfaces = new FanOut(logger);
  }

  add(notifier: ApprovalNotifier): void {
    this.surfaces.add(notifier);
  }

  async requested(approval: Approval, approvers: ApproverQuery): Promise<void> {
    await this.surfaces.tell(
      (notifier) => notifier.requested(approval, approvers),
      { approval_id: approval.id },
      "could not tell approvers about an approval",
    );
  }

  async thresholdReached(notice: ThresholdNotice, approvers: ApproverQuery): Promise<void> {
    await this.surfaces.tell(
      (notifier) => notifier.thresholdReached?.(notice, approvers),
      { budget: notice.budgetScope, run_id: notice.runId },
      "could not tell approvers a budget passed a threshold",
    );
  }
}

/** What a notify budget's approvers are told when a run takes it past a threshold (Markdown). */
export function thresholdWords(notice: ThresholdNotice): string {
  return `${notice.message} Reached by a run of **${notice.agentName}** for ${notice.requesterEmail}.`;
}

/** What an approver is asked (Markdown; the surface escapes it). */
export function approvalRequestWords(approval: Approval): string {
  const usd = (value: number) => `$${value.toFixed(2)}`;
  return [
    `**${approval.requesterEmail}** asks to run **${approval.agentName}**, over the budget for \`${approval.budgetScope}\`:`,
    `> ${approval.summary}`,
    `Spent or held: ${usd(approval.spentUsd)} of ${usd(approval.limitUsd)}; this run may cost up to ${usd(approval.estimateUsd)}.`,
  ].join("\n");
}
