import type { webApi } from "@slack/bolt";
import {
  type Approval,
  type ApprovalNotifier,
  type ApproverQuery,
  approvalRequestWords,
  type ThresholdNotice,
  thresholdWords,
} from "../../governance/index.js";
import { approvalButtons, type ChatFlow } from "../chat/index.js";
import type { SlackConversation } from "./slack-deps.js";
import { directMessagePlaces } from "./slack-dm.js";

export interface SlackApprovalSettings {
  /** Post every request here (a channel id) instead of to each approver directly. */
  channel?: string | undefined;
  /** The emails of the people who may decide (OpenFGA's list of users with the relation). */
  approverEmails(query: ApproverQuery): Promise<string[]>;
}

/**
 * Tells approvers in Slack that a run waits for them: a direct message to each approver
 * Slack knows by email (or one message in a configured channel), with Approve and Deny
 * buttons (`approve_budget`, `deny_budget`: the chat core's kinds, so a click is checked
 * and applied the same way as on every surface).
 */
export class SlackApprovalNotifier implements ApprovalNotifier {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly flow: ChatFlow<SlackConversation>,
    private readonly settings: SlackApprovalSettings,
  ) {}

  async requested(approval: Approval, approvers: ApproverQuery): Promise<void> {
    const words = approvalRequestWords(approval);
    const buttons = approvalButtons(approval.id);
    for (const place of await this.places(approvers)) {
      await this.flow.offer(place, words, buttons);
    }
  }

  /** A notify budget's threshold: the same people are told, with nothing to decide. */
  async thresholdReached(notice: ThresholdNotice, approvers: ApproverQuery): Promise<void> {
    for (const place of await this.places(approvers)) {
      await this.flow.say(place, thresholdWords(notice));
    }
  }

  /** The configured channel, or each approver's direct messages with the app. */
  private async places(approvers: ApproverQuery): Promise<SlackConversation[]> {
    if (this.settings.channel) return [{ team: "", channel: this.settings.channel }];
    return directMessagePlaces(this.client, await this.settings.approverEmails(approvers));
  }
}
