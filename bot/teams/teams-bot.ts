import type { Router } from "express";
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { AccessPolicy, UserDirectory } from "../../authz/index.js";
import type {
  AccessRequestNotifiers,
  AccessRequests,
  AgentDirectory,
  AgentRegistry,
} from "../../directory/index.js";
import type { ApprovalNotifiers } from "../../governance/index.js";
import type { RunsService } from "../../sessions/index.js";
// The Slack intake's gate, surface-neutral: it belongs in bot/chat next to WorkLimiter.
import {
  type ChatActionKind,
  type ChatCore,
  mayRunAgent,
  openChatCore,
  QuietGate,
  type RunAccessDeps,
  WorkLimiter,
} from "../chat/index.js";
import { CARD_INPUT_ID, type SubmitData } from "./agent-cards.js";
import { readMention } from "./mentions.js";
import { ASK_COMMAND, MessageExtension } from "./message-extension.js";
import {
  TeamsAccessRequestNotifier,
  type TeamsAccessRequestSettings,
} from "./teams-access-requests.js";
import { createTeamsApp } from "./teams-app.js";
import {
  TEAMS_GLOBAL_SERVICE_URL,
  TeamsApprovalNotifier,
  type TeamsApprovalSettings,
} from "./teams-approvals.js";
import { connectorClient, type TeamsDeps, type TeamsTarget } from "./teams-deps.js";
import { TeamsDirectChats } from "./teams-direct.js";
import { TeamsIdentities } from "./teams-identities.js";
import type { TeamsSettings } from "./teams-settings.js";
import { TeamsSurface } from "./teams-surface.js";
import { escapeTeamsText, plainFromTeams, teamsWords } from "./teams-text.js";
import { TeamsTyping } from "./teams-typing.js";

export interface TeamsServices {
  knex: Knex;
  runs: RunsService;
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
  users: UserDirectory;
  logger: Logger;
  /** More kinds of button (governance's approvals), next to the run buttons. */
  actionKinds?: readonly ChatActionKind[] | undefined;
  /** The embedded database has one process: replies held when it last stopped were its own. */
  singleProcess?: boolean;
  /** CHAT_REPLY_HOLD_MS: see ChatCoreServices.replyHoldMs. */
  replyHoldMs?: number | undefined;
  /** Teams adds its approval requests (1:1 chats or a channel, with buttons) to these. */
  approvals?:
    | (Pick<TeamsApprovalSettings, "conversation" | "approverEmails"> & {
        notifiers: ApprovalNotifiers;
      })
    | undefined;
  /**
   * Access requests: owners are asked in 1:1 chats (Teams adds its notifier to `notifiers`),
   * their buttons decide, and refusals to run carry "Request access".
   */
  requests?:
    | (TeamsAccessRequestSettings & { service: AccessRequests; notifiers: AccessRequestNotifiers })
    | undefined;
}

export interface TeamsIntegration {
  /** Mount at the root: POST /api/messages. */
  router: Router;
  /** Posts words with buttons where a run was asked from in Teams (governance's approvals). */
  offerForRun: ChatCore<TeamsTarget>["offerForRun"];
  stop(): Promise<void>;
}

/**
 * Activities in hand at once; each was answered (HTTP 200) before it waits its turn. Wide:
 * a message's slow part waits in the chat flow's own line (TURNS_AT_ONCE, in order of
 * arrival), so its claim is not held behind the answers of every message before it.
 */
const MESSAGES_AT_ONCE = 256;
/** Handling starts once activities pause this long, or after MAX_HOLD_MS under a stream. */
const QUIET_MS = 20;
const MAX_HOLD_MS = 250;

// biome-ignore lint/suspicious/noExplicitAny: activities are the Bot Framework's loose JSON.
type Activity = Record<string, any>;

/**
 * The Teams bot on the chat core: Teams' own part is the transport (the SDK's App behind
 * Switchboard's HTTP server, teams-app.ts), reading a mention (`<at>…</at>`) and the reply
 * chain, who a member is (teams-identities.ts), the renderer (teams-surface.ts) and the
 * message extension. Messages go to the core's ChatFlow, card buttons to its
 * ChatActionRegistry, replies through its ChatReplyLoop (taken over after a restart).
 * A message is answered with HTTP 200 at once and handled after; an invoke is answered with
 * its result (Teams waits 5 s), and a run it starts answers in the conversation later.
 */
export async function startTeams(
  settings: TeamsSettings,
  services: TeamsServices & { publicUrl: string },
): Promise<TeamsIntegration> {
  const logger = services.logger.child({ module: "teams" });
  // Under a burst, every activity is answered before any is handled (see QuietGate).
  const gate = new QuietGate(QUIET_MS, MAX_HOLD_MS);
  const teams = createTeamsApp(settings, logger, { onArrival: () => gate.arrived() });
  const publicUrl = services.publicUrl.replace(/\/+$/, "");
  const surface = new TeamsSurface({ tokens: teams.tokens });
  const typing = new TeamsTyping(surface);
  const chat = openChatCore(surface, {
    ...services,
    publicUrl,
    logger,
    accessRequests: services.requests?.service,
    actionKinds: [
      askByMention({
        directory: services.directory,
        publicUrl,
        accessRequests: services.requests?.service,
      }),
      ...(services.actionKinds ?? []),
    ],
  });
  const { flow, clicks } = chat;
  const deps: TeamsDeps = {
    directory: services.directory,
    registry: services.registry,
    access: services.access,
    publicUrl,
    identities: new TeamsIdentities(services.users),
    tokens: teams.tokens,
  };
  const extension = new MessageExtension(deps);
  // The Bot Connector and tenant id the last verified activity named: where the bot opens
  // chats with approvers (activities reach the handlers only once their token, serviceurl
  // claim included, is checked). TEAMS_TENANT_ID may be the tenant's domain; identities are
  // linked under the tenant's id, which activities carry.
  const tenantIsId = /^[0-9a-fA-F-]{36}$/.test(settings.tenantId);
  const heard = { serviceUrl: TEAMS_GLOBAL_SERVICE_URL, tenantId: settings.tenantId };
  const heardFrom = (activity: Activity) => {
    const tenant = tenantOf(activity);
    if (!tenant || (tenantIsId && tenant !== settings.tenantId)) return;
    if (typeof activity.serviceUrl === "string") heard.serviceUrl = activity.serviceUrl;
    heard.tenantId = tenant;
  };
  const direct = new TeamsDirectChats(deps, services.users, {
    appId: settings.appId,
    heard: () => heard,
  });
  if (services.approvals) {
    services.approvals.notifiers.add(
      new TeamsApprovalNotifier(direct, flow, {
        conversation: services.approvals.conversation,
        approverEmails: services.approvals.approverEmails,
      }),
    );
  }
  if (services.requests) {
    services.requests.notifiers.add(
      new TeamsAccessRequestNotifier(direct, flow, services.requests, chat),
    );
  }
  const limiter = new WorkLimiter(MESSAGES_AT_ONCE);
  const background = new Set<Promise<unknown>>();
  const later = (what: string, work: () => Promise<unknown>) => {
    const done = new Promise<void>((resolve) => gate.defer(resolve))
      .then(() => limiter.run(work))
      .catch((error: unknown) => logger.warn({ err: error }, `could not handle a Teams ${what}`));
    background.add(done);
    void done.finally(() => background.delete(done));
  };
  const personOf = (activity: Activity) => () =>
    deps.identities.person(tenantOf(activity), activity.from?.aadObjectId, async () =>
      connectorClient(deps, activity.serviceUrl)
        .conversations.members(baseConversation(activity.conversation.id))
        .getById(activity.from.id),
    );

  teams.app.on("message", async ({ activity }) => {
    const a = activity as Activity;
    heardFrom(a);
    const target = targetOf(a);
    const actionId = (a.value as Partial<SubmitData> | undefined)?.switchboardAction;
    const input: unknown = a.value?.[CARD_INPUT_ID];
    if (typeof actionId === "string") {
      later("card button", () =>
        clicks.click({
          surface: "teams",
          actionId,
          clickerRef: String(a.from?.aadObjectId ?? a.from?.id),
          replyTarget: target,
          person: personOf(a),
          tell: (words) => surface.say(target, words),
          // Teams has no message only one person sees: a refusal's buttons go where the click was.
          tellWithButtons: async (words, buttons) => {
            await surface.buttons(target, words, buttons);
          },
          // The card the button is on becomes the words, so nobody clicks it again.
          settle: async (words, options) => {
            if (!a.replyToId) return;
            // The clicker's display name is theirs to choose: shown as written.
            const who = options?.byClicker ? `${escapeTeamsText(a.from?.name ?? "Someone")} ` : "";
            await surface
              .update(target, a.replyToId, {
                type: "message",
                textFormat: "markdown",
                text: `${who}${teamsWords(words, options?.quotes)}`,
              })
              .catch(() => undefined);
          },
          // The card's field (a button's prompt, e.g. Deny's reason) comes with every button.
          input: typeof input === "string" ? input.trim() : undefined,
          native: a,
        }),
      );
      return;
    }
    // Bots (this one's own messages included) are not people: answering them could loop.
    if (String(a.from?.id ?? "").startsWith("28:") || a.from?.id === a.recipient?.id) return;
    const { mentioned, text } = readMention(a, a.recipient?.id ?? "");
    later("message", () =>
      flow.handle({
        surface: "teams",
        deliveryId: `${a.conversation.id}:${a.id}`,
        from: { ref: String(a.from?.aadObjectId ?? a.from?.id), person: personOf(a) },
        where: baseConversation(a.conversation.id),
        threadKey: threadKeyOf(a, a.conversation.id),
        text,
        mentioned,
        direct: target.personal,
        replyTarget: target,
        // Teams shows a bot typing in chats only; in a channel the working card is the first sign.
        notice:
          a.conversation.conversationType === "channel" ? undefined : () => typing.show(target),
      }),
    );
  });
  teams.app.on("message.ext.query", async ({ activity }) => {
    const a = activity as Activity;
    return (await extension.query(await personOf(a)(), a.value ?? {})) as never;
  });
  teams.app.on("message.ext.query-link", async ({ activity }) => {
    const a = activity as Activity;
    return (await extension.unfurl(await personOf(a)(), String(a.value?.url ?? ""))) as never;
  });
  teams.app.on("message.ext.open", async ({ activity }) => {
    const a = activity as Activity;
    return (await extension.openAsk(
      await personOf(a)(),
      String(a.value?.messagePayload?.body?.content ?? ""),
    )) as never;
  });
  teams.app.on("message.ext.submit", async ({ activity }) => {
    const a = activity as Activity;
    if (a.value?.commandId !== ASK_COMMAND) return undefined as never;
    const data = (a.value?.data ?? {}) as { agent?: unknown; request?: unknown };
    const payload = a.value?.messagePayload ?? {};
    const quoted = plainFromTeams(String(payload.body?.content ?? ""));
    const request = String(data.request ?? "").trim() || "Answer or act on this message.";
    // Into the reply chain of the message the action was used on (a chat has no chains).
    const rootId = payload.replyToId || payload.id;
    const target: TeamsTarget = {
      ...targetOf(a),
      conversationId:
        a.conversation.conversationType === "channel" && rootId
          ? `${baseConversation(a.conversation.id)};messageid=${rootId}`
          : a.conversation.id,
    };
    later("message action", async () => {
      const person = await personOf(a)();
      if ("refusal" in person) return surface.say(target, person.refusal);
      await flow.run({
        principal: person.principal,
        askerRef: String(a.from?.aadObjectId ?? a.from?.id),
        agentName: String(data.agent ?? ""),
        text: `${request}\n\nThe message:\n> ${quoted.replace(/\n/g, "\n> ")}`,
        conversation: { threadKey: threadKeyOf(a, target.conversationId), target },
        deliveryId: `action:${a.id}`,
      });
    });
    // Closes the task module at once; the answer follows in the conversation.
    return undefined as never;
  });

  await teams.app.initialize();
  await chat.resume();
  logger.info("Teams bot on at /api/messages");
  return {
    router: teams.router,
    offerForRun: (runId, words, buttons) => chat.offerForRun(runId, words, buttons),
    async stop() {
      gate.flush();
      await Promise.allSettled([...background]);
      await chat.stop();
    },
  };
}

/**
 * `run_agent_form`: the core's Run button on a suggestion made without a request. Slack
 * opens a form; Teams asks for the request in the conversation, where the next message
 * with the agent's name runs it.
 */
function askByMention(deps: RunAccessDeps): ChatActionKind {
  return {
    kind: "run_agent_form",
    singleUse: false,
    authorize: mayRunAgent(deps),
    async handle(click, payload) {
      const name = String(payload.agentName);
      await click.tell(`What should **${name}** do? Write \`@agents ${name} <your request>\`.`);
    },
  };
}

function tenantOf(activity: Activity): string {
  return String(activity.conversation?.tenantId ?? activity.channelData?.tenant?.id ?? "");
}

/** The session's key: the tenant and the conversation (a channel's reply chain, a chat). */
function threadKeyOf(activity: Activity, conversationId: string): string {
  return `${tenantOf(activity)}:${conversationId}`;
}

/** A channel's conversation id without the reply chain (`;messageid=…`). */
function baseConversation(id: string): string {
  return id.split(";")[0] as string;
}

function targetOf(activity: Activity): TeamsTarget {
  return {
    serviceUrl: String(activity.serviceUrl),
    conversationId: String(activity.conversation.id),
    personal: activity.conversation.conversationType === "personal",
  };
}
