import type { UserDirectory } from "../../authz/index.js";
import { connectorClient, type TeamsDeps, type TeamsTarget } from "./teams-deps.js";

export interface TeamsDirectSettings {
  /** The bot's own app id (the `bot` of a conversation it opens). */
  appId: string;
  /**
   * The Bot Connector and the Entra tenant id the last verified activity named (people's
   * `teams` identities are linked under that id).
   */
  heard(): { serviceUrl: string; tenantId: string };
}

/**
 * The bot's 1:1 chats with people it knows by email: a `teams` identity (their Entra object
 * id, linked when they last talked to the bot). What approvals and access requests use to
 * reach approvers, owners and the person who asked.
 */
export class TeamsDirectChats {
  /** Entra object id → the 1:1 conversation opened with them (Teams answers the same one). */
  private readonly chats = new Map<string, string>();

  constructor(
    private readonly deps: Pick<TeamsDeps, "tokens">,
    private readonly users: UserDirectory,
    private readonly settings: TeamsDirectSettings,
  ) {}

  get serviceUrl(): string {
    return this.settings.heard().serviceUrl;
  }

  /**
   * Sends to each person's 1:1 chat; answers how many chats were sent to. One person the bot
   * cannot reach (left the tenant, blocked the app) does not keep the others from hearing;
   * the first failure is thrown once all were tried.
   */
  async each(emails: readonly string[], send: (target: TeamsTarget) => Promise<void>) {
    const { serviceUrl, tenantId } = this.settings.heard();
    let sent = 0;
    const told = await Promise.allSettled(
      emails.map(async (email) => {
        for (const aadObjectId of await this.users.externalIdsOf(email, "teams", tenantId)) {
          const conversationId = await this.chatWith(serviceUrl, tenantId, aadObjectId);
          await send({ serviceUrl, conversationId, personal: true });
          sent += 1;
        }
      }),
    );
    const failed = told.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    return sent;
  }

  /** Opens (or reuses) the bot's 1:1 chat with a member: POST v3/conversations. */
  private async chatWith(serviceUrl: string, tenantId: string, aadObjectId: string) {
    const known = this.chats.get(aadObjectId);
    if (known) return known;
    const created = await connectorClient(this.deps, serviceUrl).conversations.create({
      isGroup: false,
      bot: { id: `28:${this.settings.appId}` },
      members: [{ id: aadObjectId }] as never,
      tenantId,
      channelData: { tenant: { id: tenantId } },
    });
    this.chats.set(aadObjectId, created.id);
    return created.id;
  }
}
