import {
  type Approval,
  type ApprovalNotifier,
  type ApproverQuery,
  approvalRequestWords,
  type ThresholdNotice,
  thresholdWords,
} from "../../governance/index.js";
import { approvalButtons, type ChatFlow } from "../chat/index.js";
import type { TeamsTarget } from "./teams-deps.js";
import type { TeamsDirectChats } from "./teams-direct.js";

/**
 * Microsoft's global Bot Connector endpoint for Teams, used to open a chat before the bot has
 * heard from the tenant since it started (Bot Connector API reference: "if you don't have a
 * service URL for the channel, use https://smba.trafficmanager.net/teams/").
 */
export const TEAMS_GLOBAL_SERVICE_URL = "https://smba.trafficmanager.net/teams/";

export interface TeamsApprovalSettings {
  /** Post every request into this conversation (a channel's id) instead of 1:1 chats. */
  conversation?: string | undefined;
  /** The emails of the people who may decide (OpenFGA's list of users with the relation). */
  approverEmails(query: ApproverQuery): Promise<string[]>;
}

/**
 * Tells approvers in Teams that a run waits for them: a 1:1 chat with each approver the bot
 * knows (TeamsDirectChats), or one message in a configured channel, holding an Adaptive Card
 * with Approve and Deny. The buttons are the chat core's (`approve_budget`, `deny_budget`:
 * opaque ids), so a click is checked against the clicker's right and applied once, as on
 * every surface.
 */
export class TeamsApprovalNotifier implements ApprovalNotifier {
  constructor(
    private readonly direct: TeamsDirectChats,
    private readonly flow: ChatFlow<TeamsTarget>,
    private readonly settings: TeamsApprovalSettings,
  ) {}

  async requested(approval: Approval, approvers: ApproverQuery): Promise<void> {
    const words = approvalRequestWords(approval);
    const buttons = approvalButtons(approval.id);
    await this.tell(approvers, (target) => this.flow.offer(target, words, buttons));
  }

  /** A notify budget's threshold: the same people are told, with nothing to decide. */
  async thresholdReached(notice: ThresholdNotice, approvers: ApproverQuery): Promise<void> {
    await this.tell(approvers, (target) => this.flow.say(target, thresholdWords(notice)));
  }

  /** Sends to the configured conversation, or to each approver's 1:1 chat with the bot. */
  private async tell(
    approvers: ApproverQuery,
    send: (target: TeamsTarget) => Promise<void>,
  ): Promise<void> {
    if (this.settings.conversation) {
      const { serviceUrl } = this.direct;
      await send({ serviceUrl, conversationId: this.settings.conversation, personal: false });
      return;
    }
    await this.direct.each(await this.settings.approverEmails(approvers), send);
  }
}
