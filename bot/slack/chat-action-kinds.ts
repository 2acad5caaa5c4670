import type { App, types, webApi } from "@slack/bolt";
import type { ChatButton, ChatPrompt, ChatQuote } from "../chat/index.js";
import { CHAT_ACTION_PATTERN, LINK_ACTION_PATTERN } from "./chat-buttons.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import type { SlackConversation, SlackDeps } from "./slack-deps.js";
import { buttonsMessage, wordsMessage } from "./slack-surface.js";

/** Slack's own part of a click (ChatActionClick.native), for kinds only Slack has (modals). */
export interface SlackClick {
  client: webApi.WebClient;
  /** Where the button was clicked: a channel or DM; unset in App Home. */
  channel: string | undefined;
  /** For opening a modal (valid for 3 s). */
  triggerId: string;
}

/** The action id suggestion buttons had before every button shared one dispatcher. */
export const RUN_SUGGESTED_AGENT = "run_suggested_agent";

const STALE = "This button no longer works. Try `/agents` or mention me again.";

/**
 * Every ChatActions button goes through here: acknowledged at once, then handed to the chat
 * core's registry (ChatActionRegistry.click), which looks the id up, identifies the person
 * (by their Slack profile's email), checks their rights and runs the kind's handler.
 */
export function registerChatActions(app: App, deps: SlackDeps): void {
  const dispatch: Parameters<App["action"]>[1] = async ({ ack, body, action, client, respond }) => {
    await ack();
    if (body.type !== "block_actions" || action.type !== "button" || !action.value) return;
    const actionId = action.value;
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
    // A refusal's own buttons ("Request access"), shown to the clicking person only.
    const tellWithButtons = async (words: string, buttons: readonly ChatButton[]) => {
      const message = buttonsMessage(words, buttons);
      const sent = body.response_url
        ? respond({ response_type: "ephemeral", replace_original: false, ...message })
        : client.chat.postMessage({ channel: body.user.id, ...message });
      await Promise.resolve(sent).catch((error: unknown) =>
        deps.logger.warn({ err: error }, "could not answer a Slack click"),
      );
    };
    const team = body.team?.id ?? body.user.team_id ?? "";
    const channel = body.channel?.id ?? body.container?.channel_id;
    const place: ClickPlace = {
      team,
      channel,
      threadTs: body.message?.thread_ts,
      messageTs: body.message?.ts,
      ephemeral: body.container?.is_ephemeral === true || undefined,
    };
    const native: SlackClick = { client, channel, triggerId: body.trigger_id };
    await deps.clicks.click({
      surface: "slack",
      actionId,
      clickerRef: body.user.id,
      person: () => deps.identities.person(client, team, body.user.id),
      replyTarget: replyTargetOf(place, body.user.id),
      tell,
      tellWithButtons,
      settle: settler(client, body.user.id, place),
      // Words a button takes with its click are asked for in a modal; its submission comes
      // back as this click (chat_action_input below), checked again.
      ask: (prompt) =>
        client.views
          .open({ trigger_id: body.trigger_id, view: promptView(prompt, actionId, place) })
          .then(() => undefined),
      native,
      staleWords: STALE,
    });
  };
  app.action(CHAT_ACTION_PATTERN, dispatch);
  // Suggestions posted before buttons had a common id still work.
  app.action(RUN_SUGGESTED_AGENT, dispatch);
  app.action(LINK_ACTION_PATTERN, async ({ ack }) => {
    await ack();
  });
  registerPromptAnswers(app, deps);
}

/** Where a button was clicked: its message (to settle it) and the conversation. */
interface ClickPlace {
  team: string;
  channel: string | undefined;
  threadTs: string | undefined;
  messageTs: string | undefined;
  /** On a message only the clicking person sees (an answer to `/agents`, a refusal). */
  ephemeral?: true | undefined;
}

/**
 * Where a click's answers go: the conversation the button is in; for a button on a message
 * only the person saw, the bot's DM with them (a user id as the channel), so nothing they did
 * privately is said in the channel. Unset in App Home.
 */
function replyTargetOf(place: ClickPlace, user: string): SlackConversation | undefined {
  if (place.ephemeral) return { team: place.team, channel: user };
  return place.channel
    ? { team: place.team, channel: place.channel, threadTs: place.threadTs }
    : undefined;
}

/** Replaces the clicked message with words (and people's words, as written). */
function settler(client: webApi.WebClient, user: string, place: ClickPlace) {
  return async (
    words: string,
    options: { byClicker?: boolean; quotes?: readonly ChatQuote[] | undefined } = {},
  ) => {
    if (!place.messageTs || !place.channel) return;
    const by = options.byClicker ? `<@${user}> ` : "";
    const message = wordsMessage(words, options.quotes);
    const text = `${by}${message.text}`;
    const blocks = message.blocks
      ? [{ type: "section", text: { type: "mrkdwn", text } }, ...message.blocks.slice(1)]
      : [];
    await client.chat
      .update({ channel: place.channel, ts: place.messageTs, text, blocks })
      .catch(() => undefined);
  };
}

/** The modal a button's prompt opens (ChatActionClick.ask), and its one input. */
export const PROMPT_CALLBACK = "chat_action_input";
const PROMPT_BLOCK = "answer";
const PROMPT_INPUT = "text";

/** What the modal remembers between the click and the submission (Slack keeps it, unseen). */
interface PromptState extends ClickPlace {
  /** The clicked button's ChatActions id: looked up and checked again on submission. */
  action: string;
}

function promptView(prompt: ChatPrompt, action: string, place: ClickPlace): types.ModalView {
  const state: PromptState = { action, ...place };
  return {
    type: "modal",
    callback_id: PROMPT_CALLBACK,
    private_metadata: JSON.stringify(state),
    title: { type: "plain_text", text: prompt.title.slice(0, 24) },
    submit: { type: "plain_text", text: prompt.submit.slice(0, 24) },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "input",
        block_id: PROMPT_BLOCK,
        optional: prompt.optional,
        label: { type: "plain_text", text: prompt.label.slice(0, 2000) },
        element: {
          type: "plain_text_input",
          action_id: PROMPT_INPUT,
          multiline: true,
          max_length: prompt.maxLength,
          ...(prompt.value ? { initial_value: prompt.value.slice(0, prompt.maxLength) } : {}),
        },
      },
    ],
  };
}

/**
 * A prompt's submission: the same click again, with what the person wrote as its `input`.
 * It goes through the registry like any click (the id looked up, the person identified,
 * their right checked), so a forged or replayed submission is refused the same way.
 */
function registerPromptAnswers(app: App, deps: SlackDeps): void {
  app.view(PROMPT_CALLBACK, async ({ ack, body, view, client }) => {
    await ack();
    const state = parseState(view.private_metadata);
    if (!state) return;
    const input = view.state.values[PROMPT_BLOCK]?.[PROMPT_INPUT]?.value?.trim() ?? "";
    const user = body.user.id;
    const team = state.team || body.team?.id || body.user.team_id || "";
    // The modal is closed: what only the person should see goes to the bot's DM with them.
    const tell = async (words: string) => {
      await client.chat
        .postMessage({ channel: user, text: escapeMrkdwn(words) })
        .catch((error: unknown) =>
          deps.logger.warn({ err: error }, "could not answer a Slack form"),
        );
    };
    await deps.clicks.click({
      surface: "slack",
      actionId: state.action,
      clickerRef: user,
      person: () => deps.identities.person(client, team, user),
      replyTarget: replyTargetOf({ ...state, team }, user),
      tell,
      settle: settler(client, user, state),
      input,
      native: {
        client,
        channel: state.channel,
        triggerId: (body as { trigger_id?: string }).trigger_id ?? "",
      } satisfies SlackClick,
      staleWords: STALE,
    });
  });
}

function parseState(metadata: string): PromptState | undefined {
  try {
    const state = JSON.parse(metadata) as PromptState;
    return typeof state.action === "string" ? state : undefined;
  } catch {
    return undefined;
  }
}
