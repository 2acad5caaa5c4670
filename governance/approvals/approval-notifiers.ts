import type { Logger } from "pino";
import type { Approval } from "./approval.js";
import type { ApprovalNotifier, ApproverQuery, ThresholdNotice } from "./approvals.js";

/**
 * Every surface that tells approvers a run waits (Slack, Teams…), added as each starts: the
 * runs service is made before the chat surfaces, and holds this one. A surface that fails
 * is logged and does not stop the others (the site's inbox and the API list it anyway).
 */
export class ApprovalNotifiers implements ApprovalNotifier {
  private readonly notifiers: ApprovalNotifier[] = [];

  constructor(private readonly logger: Logger) {}

  add(notifier: ApprovalNotifier): void {
    this.notifiers.push(notifier);
  }

  async requested(approval: Approval, approvers: ApproverQuery): Promise<void> {
    await this.each(
      (notifier) => notifier.requested(approval, approvers),
      { approval_id: approval.id },
      "could not tell approvers about an approval",
    );
  }

  async thresholdReached(notice: ThresholdNotice, approvers: ApproverQuery): Promise<void> {
    await this.each(
      (notifier) => notifier.thresholdReached?.(notice, approvers),
      { budget: notice.budgetScope, run_id: notice.runId },
      "could not tell approvers a budget passed a threshold",
    );
  }

  /** Every surface is told; one that fails is logged and does not stop the others. */
  private async each(
    tell: (notifier: ApprovalNotifier) => Promise<void> | undefined,
    context: Record<string, unknown>,
    failure: string,
  ): Promise<void> {
    await Promise.all(
      this.notifiers.map(async (notifier) => {
        try {
          await tell(notifier);
        } catch (error) {
          this.logger.warn({ err: error, ...context }, failure);
        }
      }),
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
