import type { UserDirectory } from "../../authz/index.js";
import {
  type Approval,
  type ApprovalNotifier,
  type ApproverQuery,
  approvalRequestWords,
  type ThresholdNotice,
  thresholdWords,
} from "../../governance/index.js";
import { approvalButtons, type ChatFlow } from "../chat/index.js";
import { connectorClient, type TeamsDeps, type TeamsTarget } from "./teams-deps.js";

/**
 * Microsoft's global Bot Connector endpoint for Teams, used to open a chat before the bot has
 * heard from the tenant since it started (Bot Connector API reference: "if you don't have a
 * service URL for the channel, use https://smba.trafficmanager.net/teams/").
 */
export const TEAMS_GLOBAL_SERVICE_URL = "https://smba.trafficmanager.net/teams/";

export interface TeamsApprovalSettings {
  /** The bot's own app id (the `bot` of a conversation it opens). */
  appId: string;
  /** Post every request into this conversation (a channel's id) instead of 1:1 chats. */
  conversation?: string | undefined;
  /** The emails of the people who may decide (OpenFGA's list of users with the relation). */
  approverEmails(query: ApproverQuery): Promise<string[]>;
  /**
   * The Bot Connector and the Entra tenant id the last verified activity named (approvers'
   * `teams` identities are linked under that id).
   */
  heard(): { serviceUrl: string; tenantId: string };
}

/**
 * Tells approvers in Teams that a run waits for them: a 1:1 chat with each approver the bot
 * knows (a `teams` identity: their Entra object id, linked when they last talked to it), or
 * one message in a configured channel, holding an Adaptive Card with Approve and Deny.
 * The buttons are the chat core's (`approve_budget`, `deny_budget`: opaque ids), so a click
 * is checked against the clicker's right and applied once, as on every surface.
 */
export class TeamsApprovalNotifier implements ApprovalNotifier {
  /** Entra object id → the 1:1 conversation opened with them (Teams answers the same one). */
  private readonly chats = new Map<string, string>();

  constructor(
    private readonly deps: Pick<TeamsDeps, "tokens">,
    private readonly users: UserDirectory,
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
    const { serviceUrl, tenantId } = this.settings.heard();
    if (this.settings.conversation) {
      await send({ serviceUrl, conversationId: this.settings.conversation, personal: false });
      return;
    }
    // One approver the bot cannot reach (left the tenant, blocked the app) does not keep the
    // others from hearing; the first failure is reported once all were tried.
    const told = await Promise.allSettled(
      (await this.settings.approverEmails(approvers)).map(async (email) => {
        for (const aadObjectId of await this.users.externalIdsOf(email, "teams", tenantId)) {
          const conversationId = await this.chatWith(serviceUrl, tenantId, aadObjectId);
          await send({ serviceUrl, conversationId, personal: true });
        }
      }),
    );
    const failed = told.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** Opens (or reuses) the bot's 1:1 chat with a member: POST v3/conversations. */
  private async chatWith(serviceUrl: string, tenantId: string, aadObjectId: string) {
    const known = this.chats.get(aadObjectId);
    if (known) return known;
    const { appId } = this.settings;
    const created = await connectorClient(this.deps, serviceUrl).conversations.create({
      isGroup: false,
      bot: { id: `28:${appId}` },
      members: [{ id: aadObjectId }] as never,
      tenantId,
      channelData: { tenant: { id: tenantId } },
    });
    this.chats.set(aadObjectId, created.id);
    return created.id;
  }
}
