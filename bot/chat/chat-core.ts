import type { Knex } from "knex";
import type { Logger } from "pino";
import type { AccessPolicy } from "../../authz/index.js";
import type { AgentDirectory, AgentRegistry } from "../../directory/index.js";
import { newWorkerId, type RunsService } from "../../sessions/index.js";
import { type ChatActionKind, ChatActionRegistry, type ChatOffer } from "./action-registry.js";
import { ChatActions } from "./chat-actions.js";
import { ChatFlow } from "./chat-flow.js";
import { ChatReplies } from "./chat-replies.js";
import type { ChatSurface } from "./chat-surface.js";
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
  /** The embedded database has one process: replies held when it last stopped were its own. */
  singleProcess?: boolean | undefined;
  /** When a finished reply's cost is read again (ms after it; default COST_RECHECKS_MS). */
  costRechecksMs?: readonly number[] | undefined;
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
  /** Takes over this surface's replies left unfinished; call once the surface can post. */
  resume(): Promise<number>;
  /** Stops following runs; replies in hand are taken over by the next process. */
  stop(): Promise<void>;
}

const PRUNE_EVERY_MS = 6 * 60 * 60_000;

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
  const replies = new ChatReplies(knex, newWorkerId());
  const actions = new ChatActions(knex);
  const deliveries = new ChatDeliveries(knex);
  const core = { ...services, actions, deliveries };
  const loop = new ChatReplyLoop({ ...core, replies }, surface);
  const flow = new ChatFlow(core, surface, loop);
  const clicks = new ChatActionRegistry(actions, flow).add(
    runAgentKind(core),
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
