import type { App, webApi } from "@slack/bolt";
import type { UserPrincipal } from "../../authz/index.js";
import { CHAT_ACTION_PATTERN, LINK_ACTION_PATTERN } from "./chat-buttons.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import type { SlackDeps } from "./slack-deps.js";
import { RUN_SUGGESTED_AGENT } from "./suggestion-blocks.js";

/** A click on a ChatActions button, by a person Switchboard knows. */
export interface ActionClick {
  deps: SlackDeps;
  client: webApi.WebClient;
  /** The ChatActions id the button carried. */
  actionId: string;
  person: UserPrincipal;
  slackUser: string;
  team: string;
  /** Where the button was clicked: a channel or DM; unset in App Home. */
  channel: string | undefined;
  /** The message the button is on, when it is on a (non-ephemeral) message. */
  messageTs: string | undefined;
  /** For opening a modal (valid for 3 s). */
  triggerId: string;
  /** Tells the person something only they see, in plain words (escaped for Slack here). */
  tell(text: string): Promise<void>;
  /**
   * Marks the button used: true for the first claim, false for every later one (a double
   * click, a second person). Single-use kinds (stored requests, approvals) claim after
   * checking the person's rights, so a refused click leaves the button to someone allowed.
   */
  claim(): Promise<boolean>;
}

/**
 * What one kind of button does (`run_agent`, `run_agent_form`, later `approve_budget`).
 * `handle` checks the clicking person's rights for what the button does: a button is seen
 * by everyone in the channel, so who posted it grants nothing.
 */
export interface ChatActionKind {
  kind: string;
  handle(click: ActionClick, payload: Record<string, unknown>): Promise<void>;
}

/** The kinds of button Slack messages may carry, by ChatActions.kind. */
export class ChatActionKinds {
  private readonly kinds = new Map<string, ChatActionKind>();

  add(kind: ChatActionKind): this {
    this.kinds.set(kind.kind, kind);
    return this;
  }

  get(kind: string): ChatActionKind | undefined {
    return this.kinds.get(kind);
  }
}

const STALE = "This button no longer works. Try `/agents` or mention me again.";

/**
 * Every ChatActions button goes through here: acknowledge at once, look the id up (an id
 * that is unknown, of another surface or of an unregistered kind answers "no longer works"),
 * map the Slack user to a Switchboard person, then hand over to the kind.
 */
export function registerChatActions(app: App, deps: SlackDeps, kinds: ChatActionKinds): void {
  const dispatch: Parameters<App["action"]>[1] = async ({ ack, body, action, client, respond }) => {
    await ack();
    if (body.type !== "block_actions" || action.type !== "button" || !action.value) return;
    const tell = async (words: string) => {
      const text = escapeMrkdwn(words);
      // Clicks in App Home come without a response_url: answer in the bot's DM instead.
      const sent = body.response_url
        ? respond({ response_type: "ephemeral", replace_original: false, text })
        : client.chat.postMessage({ channel: body.user.id, text });
      await Promise.resolve(sent).catch((error: unknown) =>
        deps.logger.warn({ err: error }, "could not answer a Slack click"),
      );
    };
    const id = action.value;
    const found = await deps.actions.find("slack", id);
    const stored = found && { ...found, id };
    const kind = stored ? kinds.get(stored.kind) : undefined;
    if (!stored || !kind) return tell(STALE);
    const team = body.team?.id ?? body.user.team_id ?? "";
    const person = await deps.identities.person(client, team, body.user.id);
    if ("refusal" in person) return tell(person.refusal);
    await kind.handle(
      {
        deps,
        client,
        actionId: action.value,
        person: person.principal,
        slackUser: body.user.id,
        team,
        channel: body.channel?.id ?? body.container?.channel_id,
        messageTs: body.message?.ts,
        triggerId: body.trigger_id,
        tell,
        claim: () => deps.actions.use(stored.id),
      },
      stored.payload,
    );
  };
  app.action(CHAT_ACTION_PATTERN, dispatch);
  // Suggestions posted before buttons had a common id still work.
  app.action(RUN_SUGGESTED_AGENT, dispatch);
  app.action(LINK_ACTION_PATTERN, async ({ ack }) => {
    await ack();
  });
}
