import type { RunsService } from "../../sessions/index.js";
import type { ChatActionKind, ChatOffer } from "./action-registry.js";

/**
 * `approve_budget` and `deny_budget`: the buttons on an approval request, on every surface.
 * The button carries only its ChatActions id; the approval id is in the stored payload. The
 * clicking person's right to decide is checked on every click (whoever the message was
 * sent to), and the decision applies once however often it arrives (governance's
 * `decideApproval`), so the buttons are not single-use: a later click is told what stands.
 */
/** The Approve and Deny buttons of one approval request, as every surface offers them. */
export function approvalButtons(approvalId: string): ChatOffer[] {
  const payload = { approvalId };
  return [
    { label: "Approve", kind: "approve_budget", payload, style: "primary" },
    { label: "Deny", kind: "deny_budget", payload, style: "danger" },
  ];
}

export function approvalKinds(runs: RunsService): ChatActionKind[] {
  const kind = (decision: "approve" | "deny"): ChatActionKind => ({
    kind: decision === "approve" ? "approve_budget" : "deny_budget",
    singleUse: false,
    async authorize(principal, payload) {
      return (await runs.mayDecideApproval(principal, String(payload.approvalId)))
        ? undefined
        : "You may not decide this approval: only the budget's approvers may.";
    },
    async handle(click, payload) {
      const result = await runs.decideApproval(click.principal, String(payload.approvalId), {
        decision,
      });
      const { approval } = result;
      if (!result.applied) {
        const by = approval.decidedBy?.replace(/^user:/, "");
        await click.tell(`This approval was already ${approval.status}${by ? ` by ${by}` : ""}.`);
        return;
      }
      if (!result.runMoved) {
        await click.settle(
          `The run of **${approval.agentName}** for ${approval.requesterEmail} was cancelled before the decision; nothing changed.`,
        );
        return;
      }
      await click.settle(
        decision === "approve"
          ? `approved the run of **${approval.agentName}** for ${approval.requesterEmail}.`
          : `denied the run of **${approval.agentName}** for ${approval.requesterEmail}.`,
        { byClicker: true },
      );
    },
  });
  return [kind("approve"), kind("deny")];
}
