import type {
  AgentSuggestions,
  ChatButton,
  ChatQuote,
  ChatSurface,
  PostedMessage,
  RunReplyTarget,
} from "../chat/index.js";
import { buttonsCard, cardAttachment, suggestionsCard } from "./agent-cards.js";
import { connectorClient, type TeamsDeps, type TeamsTarget } from "./teams-deps.js";
import { type TeamsProgress, TeamsRunReply } from "./teams-run-reply.js";
import { teamsWords } from "./teams-text.js";

/**
 * The chat flow's renderer for Teams: Markdown messages and Adaptive Cards, sent to the
 * activity's Bot Connector (its serviceUrl) in the conversation or reply chain. Buttons are
 * Action.Submit carrying only a ChatActions id; their clicks come back as message activities
 * and go to the core's ChatActionRegistry.
 */
export class TeamsSurface implements ChatSurface<TeamsTarget> {
  readonly name = "teams" as const;

  constructor(private readonly deps: Pick<TeamsDeps, "tokens">) {}

  async say(target: TeamsTarget, words: string, quotes?: readonly ChatQuote[]): Promise<void> {
    await this.send(target, {
      type: "message",
      textFormat: "markdown",
      text: teamsWords(words, quotes),
    });
  }

  async suggest(target: TeamsTarget, suggestions: AgentSuggestions): Promise<void> {
    const agents = suggestions.agents.map(({ agent, url, runActionId }) => ({
      agent,
      url,
      actionId: runActionId,
    }));
    await this.send(target, {
      type: "message",
      attachments: [cardAttachment(suggestionsCard(suggestions.intro, agents))],
    });
  }

  async buttons(
    target: TeamsTarget,
    words: string,
    buttons: readonly ChatButton[],
    quotes?: readonly ChatQuote[],
  ): Promise<PostedMessage | undefined> {
    const activityId = await this.send(target, {
      type: "message",
      attachments: [cardAttachment(buttonsCard(words, buttons, quotes))],
    });
    return activityId ? { ...target, activityId } : undefined;
  }

  /** The card `buttons` sent, replaced by words (PUT): its buttons and field gone. */
  async replace(posted: PostedMessage, words: string, quotes?: readonly ChatQuote[]) {
    const target: TeamsTarget = {
      serviceUrl: String(posted.serviceUrl),
      conversationId: String(posted.conversationId),
      personal: posted.personal === true,
    };
    await this.update(target, String(posted.activityId), {
      type: "message",
      textFormat: "markdown",
      text: teamsWords(words, quotes),
    });
  }

  openReply(
    target: RunReplyTarget<TeamsTarget>,
    progress: Record<string, unknown>,
    save: () => Promise<void>,
  ): TeamsRunReply {
    return new TeamsRunReply(this, target, progress as TeamsProgress, save);
  }

  /** Sends an activity into the target's conversation; answers the id Teams gave it. */
  async send(target: TeamsTarget, activity: Record<string, unknown>): Promise<string> {
    const client = connectorClient(this.deps, target.serviceUrl);
    const sent = await client.conversations
      .activities(target.conversationId)
      .create(activity as never);
    return sent.id;
  }

  /** Replaces a sent activity (PUT), e.g. the working message with the answer. */
  async update(target: TeamsTarget, id: string, activity: Record<string, unknown>): Promise<void> {
    const client = connectorClient(this.deps, target.serviceUrl);
    await client.conversations.activities(target.conversationId).update(id, activity as never);
  }
}
