import type { webApi } from "@slack/bolt";
import {
  type AccessRequest,
  type AccessRequestNotifier,
  accessDecisionNotice,
  accessRequestNotice,
} from "../../directory/index.js";
import {
  accessRequestButtons,
  type ChatCore,
  type ChatFlow,
  replaceAccessRequestMessages,
} from "../chat/index.js";
import type { SlackConversation } from "./slack-deps.js";
import { directMessagePlaces } from "./slack-dm.js";

export interface SlackAccessRequestSettings {
  /**
   * The emails of the agent's owners, asked afresh, in tiers (app/approver-emails.ts): the
   * first tier with someone Slack knows is asked, so platform admins (owners of every agent)
   * are asked only when none of the agent's own owners can be.
   */
  ownerEmails(agentName: string): Promise<string[][]>;
}

/**
 * Access requests in Slack: each owner of the agent gets a direct message naming who asks
 * and why, with Approve and Deny (the chat core's `approve_access` / `deny_access`, so a
 * click is checked and applied as on every surface); the person who asked gets a direct
 * message with the decision, whichever surface it was made on (or, when Slack does not find
 * them by email, a message where they asked, if that was in Slack). People's words go as
 * quotes: shown as written, never as mrkdwn.
 */
export class SlackAccessRequestNotifier implements AccessRequestNotifier {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly flow: ChatFlow<SlackConversation>,
    private readonly settings: SlackAccessRequestSettings,
    private readonly chat: Pick<ChatCore<SlackConversation>, "replaceOffers" | "requestAskedFrom">,
  ) {}

  async requested(request: AccessRequest): Promise<void> {
    const { words, quotes } = accessRequestNotice(request);
    for (const owners of await this.settings.ownerEmails(request.agentName)) {
      const places = await directMessagePlaces(this.client, owners);
      for (const place of places) {
        await this.flow.offer(place, words, accessRequestButtons(request.id), quotes);
      }
      if (places.length > 0) return;
    }
  }

  async decided(request: AccessRequest): Promise<void> {
    // Every owner's DM shows the decision, whoever made it and wherever.
    await replaceAccessRequestMessages(this.chat, request);
    const { words, quotes } = accessDecisionNotice(request);
    const places = await directMessagePlaces(this.client, [request.requesterEmail]);
    for (const place of places) await this.flow.say(place, words, quotes);
    if (places.length > 0) return;
    // Slack does not find them by email: tell them where they asked, naming who asked (it
    // may be a channel's thread). Asked on the site: the site shows it, nothing more here.
    const asked = await this.chat.requestAskedFrom(request.id);
    if (asked) {
      await this.flow.say(asked, words, [
        { label: "Asked by", text: request.requesterEmail },
        ...quotes,
      ]);
    }
  }
}
