import type { Router } from "express";
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { AccessPolicy, UserDirectory } from "../../authz/index.js";
import type { AgentDirectory, AgentRegistry } from "../../directory/index.js";
import type { RunsService } from "../../sessions/index.js";
import { ChatActions, ChatDeliveries, WorkLimiter } from "../chat/index.js";
import type { SubmitData } from "./agent-cards.js";
import { readMention } from "./mentions.js";
import { ASK_COMMAND, MessageExtension } from "./message-extension.js";
import { createTeamsApp } from "./teams-app.js";
import { TeamsConversations } from "./teams-conversation.js";
import { connectorClient, type TeamsDeps, type TeamsTarget } from "./teams-deps.js";
import { TeamsIdentities } from "./teams-identities.js";
import { TeamsRenderer } from "./teams-renderer.js";
import type { TeamsSettings } from "./teams-settings.js";
import { plainFromTeams } from "./teams-text.js";

export interface TeamsServices {
  knex: Knex;
  runs: RunsService;
  directory: AgentDirectory;
  registry: AgentRegistry;
  access: AccessPolicy;
  users: UserDirectory;
  logger: Logger;
}

export interface TeamsIntegration {
  /** Mount at the root: POST /api/messages. */
  router: Router;
  stop(): Promise<void>;
}

/** Messages handled at once; each was answered (HTTP 200) before it waits its turn. */
const MESSAGES_AT_ONCE = 8;

// biome-ignore lint/suspicious/noExplicitAny: activities are the Bot Framework's loose JSON.
type Activity = Record<string, any>;

/**
 * The Teams bot: `@agents` mentions and 1:1 chats (teams-conversation.ts), card buttons,
 * and the message extension (message-extension.ts), on the Teams SDK's App behind
 * Switchboard's own HTTP server (teams-app.ts). A message is answered with HTTP 200 at once
 * and handled after; a message extension's invoke is answered with its result (Teams waits
 * 5 s), and a run it starts answers into the conversation later.
 */
export async function startTeams(
  settings: TeamsSettings,
  services: TeamsServices & { publicUrl: string },
): Promise<TeamsIntegration> {
  const logger = services.logger.child({ module: "teams" });
  const teams = createTeamsApp(settings, logger);
  const deps: TeamsDeps = {
    ...services,
    logger,
    identities: new TeamsIdentities(services.users),
    deliveries: new ChatDeliveries(services.knex),
    actions: new ChatActions(services.knex),
    tokens: teams.tokens,
  };
  const renderer = new TeamsRenderer(deps);
  const conversations = new TeamsConversations(deps, renderer);
  const extension = new MessageExtension(deps);
  const limiter = new WorkLimiter(MESSAGES_AT_ONCE);
  const background = new Set<Promise<unknown>>();
  const later = (what: string, work: () => Promise<unknown>) => {
    const done = limiter
      .run(work)
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
    const target = targetOf(a);
    const action = (a.value as Partial<SubmitData> | undefined)?.switchboardAction;
    if (typeof action === "string") {
      later("card button", () => conversations.click(action, personOf(a), target));
      return;
    }
    const { mentioned, text } = readMention(a, a.recipient?.id ?? "");
    const threadKey = `${tenantOf(a)}:${a.conversation.id}`;
    later("message", () =>
      conversations.handle({
        deliveryKey: `${a.conversation.id}:${a.id}`,
        threadKey,
        text,
        mentioned,
        direct: target.personal,
        target,
        person: personOf(a),
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
    const agentName = String(data.agent ?? "");
    // Into the reply chain of the message the action was used on (a chat has no chains).
    const rootId = payload.replyToId || payload.id;
    const base = baseConversation(a.conversation.id);
    const target: TeamsTarget = {
      ...targetOf(a),
      conversationId:
        a.conversation.conversationType === "channel" && rootId
          ? `${base};messageid=${rootId}`
          : a.conversation.id,
    };
    later("message action", async () => {
      const person = await personOf(a)();
      if ("refusal" in person) return renderer.say(target, person.refusal);
      await conversations.run(
        person.principal,
        agentName,
        `${request}\n\nThe message:\n> ${quoted.replace(/\n/g, "\n> ")}`,
        `${tenantOf(a)}:${target.conversationId}`,
        target,
        `action:${a.id}`,
      );
    });
    // Closes the task module at once; the answer follows in the conversation.
    return undefined as never;
  });

  await teams.app.initialize();
  return {
    router: teams.router,
    async stop() {
      await conversations.close();
      await Promise.allSettled([...background]);
    },
  };
}

function tenantOf(activity: Activity): string {
  return String(activity.conversation?.tenantId ?? activity.channelData?.tenant?.id ?? "");
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
