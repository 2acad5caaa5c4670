import type { Knex } from "knex";
import type { Logger } from "pino";
import type { AccessPolicy } from "../../authz/index.js";
import type { AccessRequests, AgentDirectory, AgentRegistry } from "../../directory/index.js";
import { newWorkerId, type RunsService } from "../../sessions/index.js";
import { accessRequestKinds } from "./access-request-kinds.js";
import { type ChatActionKind, ChatActionRegistry, type ChatOffer } from "./action-registry.js";
import { ChatActions } from "./chat-actions.js";
import { ChatFlow } from "./chat-flow.js";
import { ChatReplies, DEFAULT_HOLD_MS } from "./chat-replies.js";
import type { ChatQuote, ChatSurface } from "./chat-surface.js";
import { ChatDeliveries } from "./deliveries.js";
import { ChatReplyLoop } from "./reply-loop.js";
import { runAgentKind } from "./run-agent-kind.js";

export interface ChatCoreServices {
  knex: Knex;
  runs: RunsService;
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
  logger: Logger;
  /** Links in messages point here: the site's address. */
  publicUrl: string;
  /** More kinds of button (governance's approvals), next to `run_agent`; the same on every surface. */
  actionKinds?: readonly ChatActionKind[] | undefined;
  /**
   * Access requests: with them, a refusal to run an agent the person may see carries a
   * "Request access" button, and owners' Approve / Deny buttons work (access-request-kinds.ts).
   */
  accessRequests?: AccessRequests | undefined;
  /** The embedded database has one process: replies held when it last stopped were its own. */
  singleProcess?: boolean | undefined;
  /** When a finished reply's cost is read again (ms after it; default COST_RECHECKS_MS). */
  costRechecksMs?: readonly number[] | undefined;
  /**
   * CHAT_REPLY_HOLD_MS: how long a reply in hand is held without renewal; another web
   * process takes over one whose holder died after it (default DEFAULT_HOLD_MS).
   */
  replyHoldMs?: number | undefined;
}

/** One surface's chat core: its flow, its clicks' registry and the records behind them. */
export interface ChatCore<Target extends object> {
  flow: ChatFlow<Target>;
  clicks: ChatActionRegistry;
  actions: ChatActions;
  deliveries: ChatDeliveries;
  /**
   * Posts words with buttons in the conversation a run was asked from, when it was asked on
   * this surface (governance asking for an approval where the person waits); false if not.
   */
  offerForRun(runId: string, words: string, buttons: readonly ChatOffer[]): Promise<boolean>;
  /**
   * Replaces, on this surface, every message holding buttons of `kind` whose payload has
   * `key` = `value` (e.g. every owner's copy of one access request) with words and quotes:
   * once something is decided, wherever it was, no copy still asks. Best effort, logged.
   */
  replaceOffers(
    kind: string,
    match: { key: string; value: string },
    words: string,
    quotes?: readonly ChatQuote[],
  ): Promise<void>;
  /**
   * Where on this surface the person asked for this access request (the conversation or
   * reply chain of the "Request access" click); unset when it was asked elsewhere (the
   * site, the API, another surface) or over 30 days ago (records are pruned).
   */
  requestAskedFrom(requestId: string): Promise<Target | undefined>;
  /** Takes over this surface's replies left unfinished; call once the surface can post. */
  resume(): Promise<number>;
  /** Stops following runs; replies in hand are taken over by the next process. */
  stop(): Promise<void>;
}

const PRUNE_EVERY_MS = 6 * 60 * 60_000;
/** A ChatActions record that is no button: where on this surface an access request was asked. */
const ASKED_FROM = "access_request_asked_from";

/**
 * Everything a surface needs from the core, wired once: the flow with this surface as its
 * renderer, the reply loop (held by this process, taken over after a restart), the
 * registry with `run_agent` and the kinds given, and the pruning of old records.
 */
export function openChatCore<Target extends object>(
  surface: ChatSurface<Target>,
  services: ChatCoreServices,
): ChatCore<Target> {
  const { knex, logger } = services;
  const replies = new ChatReplies(knex, newWorkerId(), services.replyHoldMs ?? DEFAULT_HOLD_MS);
  const actions = new ChatActions(knex);
  const deliveries = new ChatDeliveries(knex);
  const core = { ...services, actions, deliveries };
  const loop = new ChatReplyLoop({ ...core, replies }, surface);
  const flow = new ChatFlow(core, surface, loop);
  const clicks = new ChatActionRegistry(actions, flow).add(
    runAgentKind(core),
    ...(services.accessRequests
      ? accessRequestKinds(services.accessRequests, {
          askedFrom: async (requestId, target) => {
            await actions.create(surface.name, ASKED_FROM, { requestId, target });
          },
        })
      : []),
    ...(services.actionKinds ?? []),
  );
  // Delivery claims matter for minutes (retries), buttons for weeks: prune the rest.
  const pruner = setInterval(() => {
    Promise.all([deliveries.prune(7), actions.prune(30)]).catch((error) =>
      logger.warn({ err: error }, "could not prune old chat deliveries and actions"),
    );
  }, PRUNE_EVERY_MS);
  pruner.unref();
  return {
    flow,
    clicks,
    actions,
    deliveries,
    async offerForRun(runId, words, buttons) {
      const target = await replies.targetOf(surface.name, runId);
      if (!target) return false;
      await flow.offer(target, words, buttons);
      return true;
    },
    async replaceOffers(kind, match, words, quotes) {
      for (const posted of await actions.placed(surface.name, kind, match.key, match.value)) {
        await surface
          .replace(posted, words, quotes)
          .catch((error: unknown) =>
            logger.warn({ err: error, kind }, "could not replace a message with buttons"),
          );
      }
    },
    async requestAskedFrom(requestId) {
      const found = await actions.latest(surface.name, ASKED_FROM, "requestId", requestId);
      return found?.target as Target | undefined;
    },
    async resume() {
      if (services.singleProcess) await replies.release({ everyone: true, surface: surface.name });
      const resumed = await loop.resume();
      if (resumed > 0) logger.info({ replies: resumed }, "resuming chat replies left unfinished");
      return resumed;
    },
    async stop() {
      clearInterval(pruner);
      await loop.close();
    },
  };
}
