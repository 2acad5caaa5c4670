import { eventually } from "../support/eventually.js";
import type { EntraTokenDouble } from "./entra-token.js";
import { type LoopbackServer, readBody, startLoopbackServer } from "./loopback-server.js";

/**
 * A local stand-in for the Bot Connector service a Teams activity names as its serviceUrl
 * (Bot Framework REST API, v3): the calls the bot makes back into a conversation.
 * - POST /v3/conversations/{id}/activities: send to the conversation (a channel's reply
 *   chain is the id with `;messageid=…`); answers { id }.
 * - POST /v3/conversations/{id}/activities/{activityId}: reply to an activity; { id }.
 * - Either POST with a typing activity (`{ type: "typing" }`, no attachments) shows the bot
 *   typing (recorded as `typing`, apart from `posted()`); answered as any send, 201 with a
 *   ResourceResponse. A typing activity with a `streaminfo` entity is a chunk of a streamed
 *   reply, recorded as a send. A typing activity cannot be updated (PUT), and only message
 *   and typing activities are sent by a bot: anything else is unexpected (400).
 *   `refuseTyping(n, status)` answers the next n typing activities 500 or 429 (Throttled).
 * - PUT /v3/conversations/{id}/activities/{activityId}: update a sent activity (the body is
 *   the whole replacement activity); { id }. `refuseUpdates(n)` makes the next n answer
 *   429, as the connector does when a conversation's updates come too fast.
 * - GET /v3/conversations/{id}/members/{memberId}: one member (TeamsChannelAccount: id,
 *   name, aadObjectId, email, userPrincipalName, tenantId).
 * - POST /v3/conversations (ConversationParameters: isGroup false, bot, members [{ id }],
 *   tenantId): opens the bot's 1:1 chat with a member of the tenant; answers
 *   { id } (ConversationResourceResponse), the same id for the same member. Only expected
 *   once a test calls `expectConversations()`; a member or tenant it does not know is 400.
 * Every call must carry a bearer token the Entra double issued (else 401, as the connector
 * answers). Calls are recorded in order; any other request is unexpected and fails `verify()`.
 */

// biome-ignore lint/suspicious/noExplicitAny: activities are asserted on by the tests.
export type Activity = Record<string, any>;

export interface ConnectorCall {
  method: "send" | "reply" | "update" | "member" | "create" | "typing";
  conversationId: string;
  activityId?: string;
  activity?: Activity;
  /** The id the connector gave a sent or replied activity. */
  id?: string;
  /** When it arrived (epoch ms). */
  at?: number;
  /** The HTTP status the double refused it with (see `refuseUpdates`). */
  refused?: number;
}

export interface TeamsMember {
  /** The Teams user id (29:…). */
  id: string;
  aadObjectId: string;
  name: string;
  email?: string;
  userPrincipalName?: string;
}

export class BotConnectorDouble {
  readonly calls: ConnectorCall[] = [];
  readonly unexpected: string[] = [];
  readonly unauthorized: string[] = [];
  private counter = 0;
  private conversationsExpected = false;
  private updatesToRefuse = 0;
  private readonly blocked = new Set<string>();
  private typingToRefuse: { count: number; status: 429 | 500 } = { count: 0, status: 500 };
  private membersHeld: Promise<void> | undefined;

  private constructor(
    private readonly server: LoopbackServer,
    private readonly entra: EntraTokenDouble,
    readonly members: TeamsMember[],
    readonly tenantId: string,
  ) {}

  static async start(
    entra: EntraTokenDouble,
    members: TeamsMember[],
    tenantId: string,
  ): Promise<BotConnectorDouble> {
    let double: BotConnectorDouble | undefined;
    const server = await startLoopbackServer((req, res) => {
      void readBody(req).then(async (body) => {
        if (req.method === "GET" && /\/members\//.test(req.url ?? "")) await double?.membersHeld;
        const answer = double?.answer(
          req.method ?? "",
          req.url ?? "",
          req.headers.authorization,
          body,
        ) ?? {
          status: 500,
          body: {},
        };
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
      });
    });
    double = new BotConnectorDouble(server, entra, members, tenantId);
    return double;
  }

  /** The serviceUrl activities name (with the trailing slash Teams sends). */
  get serviceUrl(): string {
    return `${this.server.url}/teams/`;
  }

  /** Messages sent, replied or updated into a conversation (a reply chain's id included). */
  posted(conversationId?: string): ConnectorCall[] {
    return this.calls.filter(
      (call) =>
        call.method !== "member" &&
        call.method !== "create" &&
        call.method !== "typing" &&
        (conversationId === undefined || call.conversationId === conversationId),
    );
  }

  /** Waits for a posted activity whose text (or card) contains `text`. */
  async waitForText(text: string, conversationId?: string): Promise<ConnectorCall> {
    return eventually(async () => {
      const found = this.posted(conversationId).find((call) =>
        JSON.stringify(call.activity ?? {}).includes(text),
      );
      if (!found) {
        throw new Error(
          `no message with "${text}" yet; posted: ${JSON.stringify(this.posted().map((c) => c.activity))}`,
        );
      }
      return found;
    });
  }

  /** Typing activities the bot sent (refused ones included, marked `refused`), in order. */
  typing(conversationId?: string): ConnectorCall[] {
    return this.calls.filter(
      (call) =>
        call.method === "typing" &&
        (conversationId === undefined || call.conversationId === conversationId),
    );
  }

  /** The next `count` typing activities are refused: 500, or 429 (throttled). */
  refuseTyping(count: number, status: 429 | 500): void {
    this.typingToRefuse = { count, status };
  }

  /** Member lookups (the slow part of a message: who its sender is) wait until released. */
  holdMembers(): () => void {
    let release = () => {};
    this.membersHeld = new Promise<void>((resolve) => {
      release = () => {
        this.membersHeld = undefined;
        resolve();
      };
    });
    return release;
  }

  /** The next `count` activity updates are refused with 429 (throttled), then accepted again. */
  refuseUpdates(count: number): void {
    this.updatesToRefuse = count;
  }

  /** Updates of one sent activity, in order (refused ones included, marked `refused`). */
  updatesOf(activityId: string): ConnectorCall[] {
    return this.calls.filter((call) => call.method === "update" && call.activityId === activityId);
  }

  /** From now on, the bot may open 1:1 chats (POST v3/conversations). */
  expectConversations(): void {
    this.conversationsExpected = true;
  }

  /**
   * From now on, opening a 1:1 chat with this member is refused as Teams refuses it when
   * the person blocked the bot: 403 ConversationBlockedByUser (recorded as a refused create).
   */
  blockedBy(aadObjectId: string): void {
    this.blocked.add(aadObjectId);
  }

  /** The 1:1 chats the bot opened, in order. */
  opened(): ConnectorCall[] {
    return this.calls.filter((call) => call.method === "create");
  }

  /** The id Teams gives the bot's 1:1 chat with a member (as the harness's personal chats). */
  personalConversation(aadObjectId: string): string {
    return `a:1personal-${aadObjectId}`;
  }

  verify(): void {
    if (this.unexpected.length > 0 || this.unauthorized.length > 0) {
      throw new Error(
        `unexpected calls to the Bot Connector double: ${[...this.unexpected, ...this.unauthorized]}`,
      );
    }
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private answer(method: string, url: string, authorization: string | undefined, body: string) {
    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
    if (!token || !this.entra.issued.has(token)) {
      this.unauthorized.push(`${method} ${url} without a token Entra issued`);
      return { status: 401, body: { message: "Authorization has been denied for this request." } };
    }
    const path = new URL(url, "http://connector").pathname;
    if (path === "/teams/v3/conversations" && method === "POST" && this.conversationsExpected) {
      return this.createConversation(JSON.parse(body || "{}") as Activity);
    }
    const match = /^\/teams\/v3\/conversations\/([^/]+)\/(activities|members)(?:\/([^/]+))?$/.exec(
      path,
    );
    if (!match) return this.unexpectedCall(method, url);
    const conversationId = decodeURIComponent(match[1] as string);
    const kind = match[2];
    const id = match[3] === undefined ? undefined : decodeURIComponent(match[3]);
    if (kind === "members" && method === "GET" && id) {
      this.calls.push({ method: "member", conversationId, activityId: id });
      const member = this.members.find((m) => m.id === id || m.aadObjectId === id);
      if (!member) {
        return { status: 404, body: { error: { code: "MemberNotFoundInConversation" } } };
      }
      return { status: 200, body: { ...member, tenantId: this.tenantId, userRole: "user" } };
    }
    if (kind !== "activities") return this.unexpectedCall(method, url);
    const activity = JSON.parse(body || "{}") as Activity;
    const at = Date.now();
    const sentId = `1700000${String(++this.counter).padStart(6, "0")}`;
    if (activity.type !== "message" && activity.type !== "typing") {
      this.unexpected.push(`${method} ${url} with a ${String(activity.type)} activity`);
      return { status: 400, body: { error: { code: "BadArgument" } } };
    }
    const streamed = (activity.entities ?? []).some(
      (entity: Activity) => entity?.type === "streaminfo",
    );
    if (activity.type === "typing" && !streamed) {
      if (method !== "POST" || activity.attachments !== undefined) {
        this.unexpected.push(`${method} ${url} with ${JSON.stringify(activity)}`);
        return { status: 400, body: { error: { code: "BadArgument" } } };
      }
      const call: ConnectorCall = {
        method: "typing",
        conversationId,
        activityId: id,
        activity,
        at,
      };
      this.calls.push(call);
      if (this.typingToRefuse.count > 0) {
        this.typingToRefuse.count -= 1;
        call.refused = this.typingToRefuse.status;
        return call.refused === 429
          ? { status: 429, body: { error: { code: "Throttled", message: "Too many requests" } } }
          : { status: 500, body: { error: { code: "ServiceError", message: "Unknown error" } } };
      }
      call.id = sentId;
      return { status: 201, body: { id: sentId } };
    }
    if (method === "POST" && id === undefined) {
      this.calls.push({ method: "send", conversationId, activity, id: sentId, at });
    } else if (method === "POST") {
      this.calls.push({
        method: "reply",
        conversationId,
        activityId: id,
        activity,
        id: sentId,
        at,
      });
    } else if (method === "PUT" && id) {
      if (this.updatesToRefuse > 0) {
        this.updatesToRefuse -= 1;
        this.calls.push({
          method: "update",
          conversationId,
          activityId: id,
          activity,
          at,
          refused: 429,
        });
        return {
          status: 429,
          body: { error: { code: "Throttled", message: "Too many requests" } },
        };
      }
      this.calls.push({ method: "update", conversationId, activityId: id, activity, at });
      return { status: 200, body: { id } };
    } else {
      return this.unexpectedCall(method, url);
    }
    return { status: 201, body: { id: sentId } };
  }

  private createConversation(params: Activity) {
    const memberId = params.members?.[0]?.id;
    const member = this.members.find((m) => m.aadObjectId === memberId || m.id === memberId);
    if (
      params.isGroup !== false ||
      params.members?.length !== 1 ||
      params.tenantId !== this.tenantId ||
      !member
    ) {
      this.unexpected.push(`POST /v3/conversations with ${JSON.stringify(params)}`);
      return { status: 400, body: { error: { code: "BadArgument" } } };
    }
    const id = this.personalConversation(member.aadObjectId);
    if (this.blocked.has(member.aadObjectId)) {
      this.calls.push({ method: "create", conversationId: id, activity: params, refused: 403 });
      return {
        status: 403,
        body: {
          error: {
            code: "ConversationBlockedByUser",
            message: "User blocked the conversation with the bot.",
          },
        },
      };
    }
    this.calls.push({ method: "create", conversationId: id, activity: params, at: Date.now() });
    return { status: 201, body: { id } };
  }

  private unexpectedCall(method: string, url: string) {
    this.unexpected.push(`${method} ${url}`);
    return { status: 404, body: { error: { code: "BadSyntax" } } };
  }
}
