import type { App, webApi } from "@slack/bolt";
import { CHAT_ACTION_PATTERN, LINK_ACTION_PATTERN } from "./chat-buttons.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import type { SlackDeps } from "./slack-deps.js";
import { wordsMrkdwn } from "./slack-surface.js";

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
    const team = body.team?.id ?? body.user.team_id ?? "";
    const channel = body.channel?.id ?? body.container?.channel_id;
    const messageTs = body.message?.ts;
    const settle = async (words: string, options: { byClicker?: boolean } = {}) => {
      if (!messageTs || !channel) return;
      const by = options.byClicker ? `<@${body.user.id}> ` : "";
      await client.chat
        .update({ channel, ts: messageTs, text: `${by}${wordsMrkdwn(words)}`, blocks: [] })
        .catch(() => undefined);
    };
    const native: SlackClick = { client, channel, triggerId: body.trigger_id };
    await deps.clicks.click({
      surface: "slack",
      actionId: action.value,
      clickerRef: body.user.id,
      person: () => deps.identities.person(client, team, body.user.id),
      replyTarget: channel ? { team, channel, threadTs: body.message?.thread_ts } : undefined,
      tell,
      settle,
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
}
