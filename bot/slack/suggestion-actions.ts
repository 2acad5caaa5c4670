import type { App } from "@slack/bolt";
import type { SlackDeps, SlackPlace } from "./slack-deps.js";
import { RUN_SUGGESTED_AGENT } from "./suggestion-blocks.js";
import { runInThread } from "./thread-runs.js";

/**
 * A click on a suggested agent's "Run" button: the stored request runs as the person who
 * clicked, with their rights checked as for any run; the suggestion is replaced by what
 * was chosen, so nobody runs it twice.
 */
export function registerSuggestionActions(app: App, deps: SlackDeps): void {
  app.action(RUN_SUGGESTED_AGENT, async ({ ack, body, action, client, respond }) => {
    await ack();
    if (body.type !== "block_actions" || action.type !== "button" || !action.value) return;
    const team = body.team?.id ?? body.user.team_id ?? "";
    const stored = await deps.actions.find("slack", action.value);
    if (!stored || stored.kind !== "run_agent") {
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: "This button no longer works; mention me again.",
      });
      return;
    }
    const person = await deps.identities.person(client, team, body.user.id);
    if ("refusal" in person) {
      await respond({ response_type: "ephemeral", replace_original: false, text: person.refusal });
      return;
    }
    if (!(await deps.actions.use(action.value))) return; // a double click: the first one runs
    const { agentName, text, place } = stored.payload as {
      agentName: string;
      text: string;
      place: SlackPlace;
    };
    if (body.message?.ts && body.channel?.id) {
      await client.chat
        .update({
          channel: body.channel.id,
          ts: body.message.ts,
          text: `<@${body.user.id}> asked *${agentName}*.`,
          blocks: [],
        })
        .catch(() => undefined);
    }
    await runInThread(deps, client, {
      principal: person.principal,
      slackUser: body.user.id,
      agentName,
      text,
      place,
      deliveryKey: `action:${action.value}`,
    });
  });
}
