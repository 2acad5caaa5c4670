import type { Logger } from "pino";
import type { AccessPolicy, UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import type { AccessRequests, AgentDirectory, AgentRegistry } from "../../directory/index.js";
import { type RunsService, retiredConversation } from "../../sessions/index.js";
import type { ChatOffer, ChatPort, ChatRunRequest } from "./action-registry.js";
import { suggestAgents } from "./agent-suggestions.js";
import type { ChatActions } from "./chat-actions.js";
import type { ChatConversation, IncomingChatMessage } from "./chat-message.js";
import type { ChatQuote, ChatSurface } from "./chat-surface.js";
import type { ChatDeliveries } from "./deliveries.js";
import { namedAgent } from "./named-agent.js";
import type { ChatReplyLoop } from "./reply-loop.js";
import { type ChatRequest, parseRequest } from "./request-text.js";
import { agentPageUrl, requestAccessOffer } from "./run-access.js";
import { refusalText } from "./wording.js";
import { WorkLimiter } from "./work-limiter.js";

/**
 * Messages whose slow part (who the person is, which agent, admission, starting the run)
 * runs at once; the rest wait in order of arrival. Each holds a database connection for
 * most of it (DATABASE_POOL_MAX is 10 by default), and the runs they start are queued in
 * the order they start, so this is also the order answers start in.
 */
export const TURNS_AT_ONCE = 8;

export interface ChatFlowDeps {
  runs: RunsService;
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
  deliveries: ChatDeliveries;
  actions: ChatActions;
  /** Links in messages point here: the site's address. */
  publicUrl: string;
  logger: Logger;
  /** With it, a refusal to run an agent the person may see offers "Request access". */
  accessRequests?: AccessRequests | undefined;
}

/**
 * From a message to the bot to a run, on one surface (the surface renders what it says):
 * - `@agents <agent> <request>` runs the agent in the thread's session, when it is one of
 *   the person's (they use it, their team owns it, or it is featured);
 * - `@agents <request>`, or naming an agent that is not theirs, offers the agents the
 *   person may run that fit, as buttons (`run_agent`, or `run_agent_form` without a request);
 * - a later message in a thread with a session (no mention needed), or a direct message,
 *   continues with the thread's agent when it is one of theirs; when that agent was retired,
 *   nothing runs, and those who talked in the thread are told why.
 * Each delivery is claimed once; access is checked by starting the run, and a refusal is
 * said in words, with what the person can do about it.
 *
 * Under a burst, every message gets its sign of life (IncomingChatMessage.notice) as soon
 * as its delivery is claimed, whatever is still in line before it: the slow part waits
 * for a turn (TURNS_AT_ONCE), in the order the messages arrived.
 */
export class ChatFlow<Target extends object = object> implements ChatPort {
  constructor(
    private readonly deps: ChatFlowDeps,
    readonly surface: ChatSurface<Target>,
    readonly replies: ChatReplyLoop<Target>,
  ) {}

  private readonly turns = new WorkLimiter(TURNS_AT_ONCE);

  async handle(message: IncomingChatMessage<Target>): Promise<void> {
    const { runs, deliveries, logger } = this.deps;
    const surface = this.surface.name;
    // Its place in line is taken on arrival, before any await.
    const place = this.turns.place();
    try {
      // Not addressed to the bot: only a thread that has a session continues.
      const addressed = message.direct || message.mentioned;
      if (!addressed && !(await runs.conversationAgent(surface, message.threadKey))) return;
      if (!(await deliveries.claim(surface, message.deliveryId))) return;
      // Not awaited: a surface's rate limit on it must not hold the request back.
      if (addressed && message.notice) {
        message.notice().catch((error: unknown) => {
          logger.info({ err: error, surface }, "could not show a sign of life on a message");
        });
      }
      await place.run(() => this.answer(message, addressed));
    } finally {
      place.leave();
    }
  }

  /** The slow part of handling a claimed message: who, which agent, and the run. */
  private async answer(message: IncomingChatMessage<Target>, addressed: boolean): Promise<void> {
    const say = (words: string) => this.surface.say(message.replyTarget, words);
    const person = await message.from.person();
    if ("refusal" in person) return say(person.refusal);
    const picked = await this.pickAgent(person.principal, message.text, message.threadKey).catch(
      (error: unknown) => ({ refusal: refusalText(error, "", "") }),
    );
    if ("refusal" in picked) return say(picked.refusal);
    const { request, agentName } = picked;
    const conversation = { threadKey: message.threadKey, target: message.replyTarget };

    if (!agentName) {
      // A reply in a thread whose agent someone else picked, not addressed to the bot.
      if (!addressed) return;
      return this.suggest(person.principal, request.text, conversation, request.passedOver);
    }
    if (!request.text) {
      return say(
        `What should **${agentName}** do? Write it after the name, e.g. \`@agents ${agentName} summarise this thread\`.`,
      );
    }
    await this.run({
      principal: person.principal,
      askerRef: message.from.ref,
      agentName,
      text: request.text,
      conversation,
      deliveryId: message.deliveryId,
    });
  }

  /**
   * Starts a run of the agent for the person in the conversation's session, and replies
   * there. A repeat of `deliveryId` finds the run already started and starts nothing.
   */
  async run(request: ChatRunRequest): Promise<void> {
    const surface = this.surface.name;
    const target = request.conversation.target as Target;
    let started: Awaited<ReturnType<RunsService["start"]>>;
    try {
      started = await this.deps.runs.start(request.principal, {
        agentName: request.agentName,
        input: request.text,
        conversation: {
          surface,
          conversationKey: request.conversation.threadKey,
          title: request.text.slice(0, 120),
        },
        idempotencyKey: `${surface}:${request.deliveryId}`,
      });
    } catch (error) {
      const log = { err: error, agent: request.agentName, surface };
      this.deps.logger.info(log, "a chat request was refused");
      const url = agentPageUrl(this.deps.publicUrl, request.agentName);
      if (this.deps.accessRequests && isSwitchboardError(error) && error.code === "forbidden") {
        // They may see it but not run it: a button asks its owners, where they are.
        const { words, offers } = requestAccessOffer(this.deps, request.agentName, request.text);
        await this.offer(target, words, offers);
        return;
      }
      await this.surface.say(target, refusalText(error, request.agentName, url));
      return;
    }
    if (!started.created) return;
    await this.replies.start(started.run.id, {
      ...target,
      user: request.askerRef,
      agentName: started.agent.name,
      sessionId: started.session.id,
    });
  }

  async say(target: object, words: string, quotes?: readonly ChatQuote[]): Promise<void> {
    await this.surface.say(target as Target, words, quotes);
  }

  async offer(
    target: object,
    words: string,
    buttons: readonly ChatOffer[],
    quotes?: readonly ChatQuote[],
  ): Promise<void> {
    const { actions } = this.deps;
    const surface = this.surface.name;
    const shown = await Promise.all(
      buttons.map(async (button) => ({
        label: button.label,
        style: button.style,
        prompt: button.prompt,
        actionId: await actions.create(surface, button.kind, button.payload),
      })),
    );
    const posted = await this.surface.buttons(target as Target, words, shown, quotes);
    if (posted) {
      await actions.place(
        shown.map((button) => button.actionId),
        posted,
      );
    }
  }

  /**
   * The answer to a request that names no agent (or one not the person's to pick by name):
   * the agents they may run that fit. With a request, "Run" runs it (`run_agent`, single
   * use); without one, "Run" asks for it (`run_agent_form`). Either way the button carries
   * only an opaque id, so a click cannot be edited into running something else. An agent
   * the request named but did not pick (`passedOver`) is among them when the person may run
   * it, its "Run" taking the request without its name.
   */
  async suggest(
    principal: UserPrincipal,
    request: string,
    conversation: ChatConversation<Target>,
    passedOver?: { agentName: string; text: string },
  ): Promise<void> {
    const { actions, publicUrl } = this.deps;
    const surface = this.surface.name;
    const agents = await suggestAgents(this.deps, principal, request, {
      include: passedOver?.agentName,
    });
    if (agents.length === 0) {
      const words = `You can't run any agents yet. Browse the directory and ask for access: ${publicUrl}`;
      return this.surface.say(conversation.target, words);
    }
    const shown = await Promise.all(
      agents.map(async (agent) => ({
        agent,
        url: agentPageUrl(publicUrl, agent.name),
        runActionId: request
          ? await actions.create(surface, "run_agent", {
              agentName: agent.name,
              text: agent.name === passedOver?.agentName ? passedOver.text || request : request,
              conversation,
            })
          : await actions.create(surface, "run_agent_form", {
              agentName: agent.name,
              conversation,
            }),
      })),
    );
    const intro = passedOver
      ? `I haven't sent this to \`${passedOver.agentName}\`: naming an agent picks it once you've used it, or when it is your team's or featured. Which agent should take this?`
      : request
        ? "Which agent should take this? These are the ones you can run that fit:"
        : "Here are agents you can run. Pick one, or write `@agents <agent> <request>`:";
    await this.surface.suggest(conversation.target, { intro, agents: shown });
  }

  /**
   * The agent a message goes to: the one its first word names, if it is one of the person's;
   * else the thread's agent, if that is one of theirs (someone else may have picked it);
   * else none, and the person is asked. See named-agent.ts for what makes an agent theirs.
   */
  private async pickAgent(
    person: UserPrincipal,
    text: string,
    threadKey: string,
  ): Promise<{ request: ChatRequest; agentName: string | undefined }> {
    const { runs } = this.deps;
    const surface = this.surface.name;
    const theirs = (name: string) => namedAgent(this.deps, person, name);
    const request = await parseRequest(text, theirs);
    if (request.agentName) return { request, agentName: request.agentName };
    const thread = await runs.conversationAgent(surface, threadKey);
    // Its agent was retired: nothing runs, and whoever talked in the thread is told why.
    if (thread?.retired) {
      if (await runs.tookPart(person, surface, threadKey)) {
        throw retiredConversation(thread.name, "thread");
      }
      return { request, agentName: undefined };
    }
    const continues = thread && (await theirs(thread.name)) === "theirs";
    return { request, agentName: continues ? thread.name : undefined };
  }
}
