import type { App, types } from "@slack/bolt";
import {
  type ChatActionKind,
  type ChatConversation,
  mayRunAgent,
  whyNotRun,
} from "../chat/index.js";
import type { SlackClick } from "./chat-action-kinds.js";
import { escapeMrkdwn } from "./mrkdwn.js";
import { postAndRun } from "./posted-runs.js";
import type { SlackConversation, SlackDeps } from "./slack-deps.js";

/** The modal a card's "Run" button opens, and its one input. */
export const RUN_FORM_CALLBACK = "run_agent_form";
const REQUEST_BLOCK = "request";
const REQUEST_INPUT = "text";

/** What the form remembers between the click and the submission (Slack keeps it, unseen). */
interface FormState {
  /** The card's ChatActions id: what the form runs is looked up again on submission. */
  action: string;
  /** Where the button was clicked; unset in App Home (the answer goes to the bot's DM). */
  channel?: string | undefined;
}

/**
 * `run_agent_form`: a card's "Run" button (Slack's: a modal is Slack's own). It opens a
 * modal asking for the request (a card has no request of its own); submitting it posts the
 * request where the card was (or in the suggestion's thread) and runs it in that message's
 * thread. Reusable: a card in a channel serves everyone who may run the agent. The person's
 * rights are checked at the click (a refused person gets no form) and again at submission.
 */
export function openRunForm(deps: SlackDeps): ChatActionKind {
  return {
    kind: "run_agent_form",
    singleUse: false,
    authorize: mayRunAgent(deps),
    async handle(click, payload) {
      const agentName = String(payload.agentName);
      const check = await whyNotRun(deps, click.principal, agentName);
      if ("refusal" in check) return click.tell(check.refusal);
      const slack = click.native as SlackClick;
      const state: FormState = { action: click.actionId, channel: slack.channel };
      await slack.client.views.open({
        trigger_id: slack.triggerId,
        view: runFormView(check.agent.title, agentName, state),
      });
    },
  };
}

function runFormView(title: string, agentName: string, state: FormState): types.ModalView {
  return {
    type: "modal",
    callback_id: RUN_FORM_CALLBACK,
    private_metadata: JSON.stringify(state),
    title: { type: "plain_text", text: `Run ${title}`.slice(0, 24) },
    submit: { type: "plain_text", text: "Run" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "input",
        block_id: REQUEST_BLOCK,
        label: { type: "plain_text", text: `What should ${agentName} do?` },
        element: {
          type: "plain_text_input",
          action_id: REQUEST_INPUT,
          multiline: true,
          max_length: 3_000,
        },
      },
    ],
  };
}

/**
 * The form's submission. Problems the person can fix (no request, no right to run) are
 * shown in the form itself, which stays open; otherwise the form closes and the request is
 * posted and run. Slack sends a submission once per click of "Run", so the view's id keys it.
 */
export function registerRunForm(app: App, deps: SlackDeps): void {
  app.view(RUN_FORM_CALLBACK, async ({ ack, body, view, client }) => {
    const text = view.state.values[REQUEST_BLOCK]?.[REQUEST_INPUT]?.value?.trim() ?? "";
    const fail = (message: string) =>
      ack({ response_action: "errors", errors: { [REQUEST_BLOCK]: message } });
    if (!text) return fail("Write what the agent should do.");
    const state = parseState(view.private_metadata);
    const stored = state && (await deps.actions.find("slack", state.action));
    if (!state || !stored || stored.kind !== "run_agent_form") {
      return fail("This form no longer works; open the agent again with `/agents`.");
    }
    const team = body.team?.id ?? body.user.team_id ?? "";
    const person = await deps.identities.person(client, team, body.user.id);
    if ("refusal" in person) return fail(person.refusal);
    const agentName = String(stored.payload.agentName);
    const check = await whyNotRun(deps, person.principal, agentName);
    if ("refusal" in check) return fail(check.refusal);
    await ack();
    const refused = await postAndRun(deps, client, {
      principal: person.principal,
      slackUser: body.user.id,
      team,
      channel: state.channel ?? body.user.id,
      conversation: withConversation(stored.payload).conversation as
        | ChatConversation<SlackConversation>
        | undefined,
      agentName,
      text,
      deliveryKey: `view:${view.id}`,
    });
    if (refused) {
      // The form is closed: say it in the bot's DM with the person.
      await client.chat
        .postMessage({ channel: body.user.id, text: escapeMrkdwn(refused.refusal) })
        .catch(() => undefined);
    }
  });
}

function parseState(metadata: string): FormState | undefined {
  try {
    const state = JSON.parse(metadata) as FormState;
    return typeof state.action === "string" ? state : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Buttons posted before the chat core named a button's conversation (`conversation`) held
 * Slack's thread as `place`: read as a conversation, they work for the rest of their days.
 */
function withConversation(payload: Record<string, unknown>): Record<string, unknown> {
  const place = payload.place as (SlackConversation & { conversationKey: string }) | undefined;
  if (payload.conversation || !place) return payload;
  const { team, channel, threadTs, conversationKey } = place;
  return {
    ...payload,
    conversation: { threadKey: conversationKey, target: { team, channel, threadTs } },
  };
}

/** A kind that also reads buttons stored with a `place` (see withConversation). */
export function slackPlaces(kind: ChatActionKind): ChatActionKind {
  return {
    ...kind,
    authorize: (principal, payload) => kind.authorize(principal, withConversation(payload)),
    handle: (click, payload) => kind.handle(click, withConversation(payload)),
  };
}
