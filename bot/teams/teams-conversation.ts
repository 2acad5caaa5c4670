// TODO(chat core, bot/chat ChatFlow / ChatReplyLoop / ChatActionRegistry from next/chatcore):
// this file is the message → run path on the services Slack uses, until the chat core lands;
// then Teams hands an IncomingChatMessage to ChatFlow and this file goes. Mentions, the
// thread key, identity and rendering stay Teams' own (mentions.ts, teams-identities.ts,
// teams-renderer.ts).
import type { UserPrincipal } from "../../authz/index.js";
import { isClosingEvent, retiredConversation } from "../../sessions/index.js";
import { namedAgent, parseRequest, refusalText, suggestAgents } from "../chat/index.js";
import { agentPageUrl, type TeamsDeps, type TeamsTarget } from "./teams-deps.js";
import type { TeamsPerson } from "./teams-identities.js";
import type { TeamsRenderer } from "./teams-renderer.js";

/** One message to the bot as the Teams transport reads it (mention parsed, text plain). */
export interface TeamsMessage {
  deliveryKey: string;
  threadKey: string;
  text: string;
  mentioned: boolean;
  direct: boolean;
  target: TeamsTarget;
  person(): Promise<TeamsPerson>;
}

const RUN_AGENT = "run_agent";

export class TeamsConversations {
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly deps: TeamsDeps,
    private readonly renderer: TeamsRenderer,
  ) {}

  /** `@agents <agent> <request>`, a continuation in a reply chain, or a 1:1 message. */
  async handle(message: TeamsMessage): Promise<void> {
    const { runs, deliveries } = this.deps;
    const addressed = message.direct || message.mentioned;
    if (!addressed && !(await runs.conversationAgent("teams", message.threadKey))) return;
    if (!(await deliveries.claim("teams", message.deliveryKey))) return;
    const say = (words: string) => this.renderer.say(message.target, words);
    const person = await message.person();
    if ("refusal" in person) return say(person.refusal);
    const principal = person.principal;
    const picked = await this.pickAgent(principal, message.text, message.threadKey).catch(
      (error: unknown) => ({ refusal: refusalText(error, "", "") }),
    );
    if ("refusal" in picked) return say(picked.refusal);
    const { agentName, text } = picked;
    if (!agentName) {
      if (!addressed) return;
      return this.suggest(principal, text, message, picked.include);
    }
    if (!text) {
      return say(
        `What should **${agentName}** do? Write it after the name, e.g. \`@agents ${agentName} summarise this thread\`.`,
      );
    }
    await this.run(
      principal,
      agentName,
      text,
      message.threadKey,
      message.target,
      message.deliveryKey,
    );
  }

  /** A card's Run button: the stored action, checked against the clicking person's rights. */
  async click(actionId: string, person: () => Promise<TeamsPerson>, target: TeamsTarget) {
    const action = await this.deps.actions.find("teams", actionId);
    if (!action || action.kind !== RUN_AGENT) {
      return this.renderer.say(target, "That button has expired; mention me again.");
    }
    if (!(await this.deps.actions.use(actionId))) return;
    const who = await person();
    if ("refusal" in who) return this.renderer.say(target, who.refusal);
    const { agentName, text, threadKey } = action.payload as Record<string, string>;
    await this.run(
      who.principal,
      String(agentName),
      String(text),
      String(threadKey),
      {
        ...(action.payload.target as TeamsTarget),
      },
      `action:${actionId}`,
    );
  }

  /** Starts the run in the thread's session and follows it into the conversation. */
  async run(
    principal: UserPrincipal,
    agentName: string,
    text: string,
    threadKey: string,
    target: TeamsTarget,
    deliveryKey: string,
  ): Promise<void> {
    let started: Awaited<ReturnType<TeamsDeps["runs"]["start"]>>;
    try {
      started = await this.deps.runs.start(principal, {
        agentName,
        input: text,
        conversation: { surface: "teams", conversationKey: threadKey, title: text.slice(0, 120) },
        idempotencyKey: `teams:${deliveryKey}`,
      });
    } catch (error) {
      this.deps.logger.info({ err: error, agent: agentName }, "a Teams request was refused");
      await this.renderer.say(
        target,
        refusalText(error, agentName, agentPageUrl(this.deps, agentName)),
      );
      return;
    }
    if (!started.created) return;
    const link = `${this.deps.publicUrl.replace(/\/+$/, "")}/sessions/${started.session.id}`;
    const work = this.follow(started.run.id, started.agent.name, target, link).catch((error) =>
      this.deps.logger.warn({ err: error, run_id: started.run.id }, "could not reply in Teams"),
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private async follow(runId: string, agentName: string, target: TeamsTarget, link: string) {
    const reply = this.renderer.openReply(target, agentName);
    await reply.begin();
    let text = "";
    let lastShown = 0;
    for await (const event of this.deps.runs.follow(runId, 0, this.stopping.signal)) {
      if (event.type === "message.delta") {
        text += String(event.data.text ?? "");
        if (Date.now() - lastShown >= reply.pace) {
          await reply.show(text);
          lastShown = Date.now();
        }
      } else if (event.type === "message") {
        text = String(event.data.text ?? text);
      } else if (event.type === "run.status" && event.data.status === "waiting" && !text) {
        await reply.waiting(String(event.data.message ?? ""));
      } else if (isClosingEvent(event)) {
        const run = await this.deps.runs.runById(runId);
        if (!run) return;
        await reply.finish(
          run,
          run.status === "succeeded" ? (run.output ?? text) : undefined,
          link,
        );
        return;
      }
    }
  }

  private async suggest(
    principal: UserPrincipal,
    request: string,
    message: TeamsMessage,
    include: string | undefined,
  ) {
    const agents = await suggestAgents(this.deps, principal, request, { include });
    if (agents.length === 0) {
      return this.renderer.say(
        message.target,
        `There is no agent you may run yet. Browse them at ${this.deps.publicUrl.replace(/\/+$/, "")}/agents`,
      );
    }
    const offers = await Promise.all(
      agents.map(async (agent) => ({
        agent,
        url: agentPageUrl(this.deps, agent.name),
        actionId: await this.deps.actions.create("teams", RUN_AGENT, {
          agentName: agent.name,
          text: request,
          threadKey: message.threadKey,
          target: message.target,
        }),
      })),
    );
    await this.renderer.suggest(
      message.target,
      request ? "These agents could help with that:" : "Which agent should I ask?",
      offers,
    );
  }

  /** The agent the first word names (one of the person's), else the thread's, else none. */
  private async pickAgent(principal: UserPrincipal, text: string, threadKey: string) {
    const theirs = (name: string) => namedAgent(this.deps, principal, name);
    const request = await parseRequest(text, theirs);
    const include = request.passedOver?.agentName;
    if (request.agentName) return { agentName: request.agentName, text: request.text, include };
    const thread = await this.deps.runs.conversationAgent("teams", threadKey);
    if (thread?.retired) {
      if (await this.deps.runs.tookPart(principal, "teams", threadKey)) {
        throw retiredConversation(thread.name, "thread");
      }
      return { agentName: undefined, text: request.text, include };
    }
    const continues = thread && (await theirs(thread.name)) === "theirs";
    return { agentName: continues ? thread.name : undefined, text: request.text, include };
  }
}
