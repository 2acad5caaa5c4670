import type { ChatActionKind } from "./action-registry.js";
import type { ChatConversation } from "./chat-message.js";
import { mayRunAgent, type RunAccessDeps } from "./run-access.js";

/**
 * `run_agent`: a stored request (a mention that named no agent) to run with the agent the
 * person picked, in the conversation it came from. Single use: the suggestion is replaced by
 * what was chosen, so nobody runs it twice. Whoever clicks must be allowed to run the agent;
 * the run is theirs; one who may only see the agent is offered "Request access".
 */
export function runAgentKind(deps: RunAccessDeps): ChatActionKind {
  return {
    kind: "run_agent",
    singleUse: true,
    authorize: mayRunAgent(deps),
    async handle(click, payload) {
      const { agentName, text, conversation } = payload as {
        agentName: string;
        text: string;
        conversation: ChatConversation;
      };
      await click.settle(`asked **${agentName}**.`, { byClicker: true });
      await click.chat.run({
        principal: click.principal,
        askerRef: click.clickerRef,
        agentName,
        text,
        conversation,
        deliveryId: `action:${click.actionId}`,
      });
    },
  };
}
