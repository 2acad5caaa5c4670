import pino, { type Logger } from "pino";
import { afterAll, beforeAll } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../../app/db/index.js";
import {
  AccessPolicy,
  EmbeddedAuthorizer,
  loadPolicyModel,
  UserDirectory,
  type UserPrincipal,
} from "../../../authz/index.js";
import {
  createDirectoryServices,
  type DirectoryServices,
  validateManifest,
} from "../../../directory/index.js";
import { Ledger } from "../../../governance/index.js";
import type { RunEngine, RunsService } from "../../../sessions/index.js";
import { startInProcessRuns } from "../../../test/support/in-process-runs.js";
import { createTestDatabase, type TestDatabase } from "../../../test/support/postgres.js";
import type { ChatActionRegistry } from "../action-registry.js";
import { type ChatCore, openChatCore } from "../chat-core.js";
import type { ChatFlow } from "../chat-flow.js";
import type { ChatPerson, IncomingChatMessage } from "../chat-message.js";
import type { ChatSurface } from "../chat-surface.js";
import { RecordingSurface, type Room } from "./recording-surface.js";

export const PUBLIC_URL = "https://switchboard.example.com";

/** An agent of team support, run by the team; `view` may see it too. */
function manifest(name: string, description: string, view: string[]) {
  return validateManifest({
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name, title: `The ${name} agent`, owner: "team:support", description },
    spec: {
      runtime: { type: "demo", delay_ms: 0 },
      access: { view, run: ["team:support"] },
    },
  });
}

/**
 * The chat core on real parts, with a surface that records what it is asked to show: a
 * PostgreSQL database of its own, the embedded authorizer, the directory, and the runs
 * engine with the demo runtime. Ada and Carol are in team support (Ada its admin); Bob may
 * see the agents but run none; Dave is unknown to the surface.
 */
export class ChatFixture {
  private constructor(
    readonly surface: RecordingSurface,
    readonly pg: TestDatabase,
    readonly db: Database,
    readonly authorizer: EmbeddedAuthorizer,
    readonly access: AccessPolicy,
    readonly directory: DirectoryServices,
    readonly runs: RunsService,
    readonly engine: RunEngine,
    readonly people: Map<string, UserPrincipal>,
    readonly core: ChatCore<Room>,
  ) {}

  get flow(): ChatFlow<Room> {
    return this.core.flow;
  }

  get clicks(): ChatActionRegistry {
    return this.core.clicks;
  }

  static async start(): Promise<ChatFixture> {
    const pg = await createTestDatabase("chat_flow");
    const db = await openDatabase({ url: pg.url, dataDir: "" });
    await migrateLatest(db);
    const authorizer = await EmbeddedAuthorizer.open({
      knex: db.knex,
      modelDsl: loadPolicyModel(),
    });
    const access = new AccessPolicy(authorizer, 5_000);
    const directory = createDirectoryServices({ knex: db.knex, authorizer, access });
    await authorizer.write([
      { user: "user:ada@example.com", relation: "admin", object: "team:support" },
      { user: "user:carol@example.com", relation: "member", object: "team:support" },
    ]);
    const users = new UserDirectory(db.knex);
    const people = new Map<string, UserPrincipal>();
    for (const name of ["ada", "bob", "carol"]) {
      const email = `${name}@example.com`;
      const user = await users.ensureUser(email);
      people.set(name, { kind: "user", userId: user.id, email, via: "teams" });
    }
    const context = { actor: "system:test" };
    const view = ["user:bob@example.com"];
    await directory.registry.apply(manifest("vpn-helper", "Fixes VPN trouble", view), context);
    await directory.registry.apply(manifest("expenses", "Files expense reports", view), context);

    const logger = pino({ level: "silent" });
    const { runs, engine } = await startInProcessRuns({
      knex: db.knex,
      access,
      registry: directory.registry,
    });
    const surface = new RecordingSurface();
    const core = openChatCore(surface, {
      knex: db.knex,
      runs,
      directory: directory.directory,
      registry: directory.registry,
      access,
      publicUrl: PUBLIC_URL,
      logger,
    });
    return new ChatFixture(
      surface,
      pg,
      db,
      authorizer,
      access,
      directory,
      runs,
      engine,
      people,
      core,
    );
  }

  private readonly others: ChatCore<object>[] = [];

  /**
   * Another surface's chat core on the same parts (a real surface against its double),
   * stopped with the fixture. `costRechecksMs`: when finished replies read their cost again.
   */
  openCore<Target extends object>(
    surface: ChatSurface<Target>,
    options: { costRechecksMs?: readonly number[]; logger?: Logger } = {},
  ): ChatCore<Target> {
    const core = openChatCore(surface, {
      knex: this.db.knex,
      runs: this.runs,
      directory: this.directory.directory,
      registry: this.directory.registry,
      access: this.access,
      publicUrl: PUBLIC_URL,
      logger: options.logger ?? pino({ level: "silent" }),
      costRechecksMs: options.costRechecksMs,
    });
    this.others.push(core as ChatCore<object>);
    return core;
  }

  /** Model-call spend booked to a run after it ended, as the proxy's ledger writer books it. */
  async bookLateProxySpend(runId: string, costUsd: number): Promise<void> {
    const run = await this.runs.runById(runId);
    if (!run) throw new Error(`no run ${runId}`);
    await new Ledger(this.db.knex).book([
      {
        occurredAt: new Date(),
        source: "proxy",
        agentId: run.agentId,
        runtime: null,
        model: "gpt-4o-mini",
        userId: run.userId,
        teamId: null,
        runId,
        sessionId: run.sessionId,
        apiKeyId: null,
        inputTokens: 1200,
        outputTokens: 300,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd,
        dedupeKey: `late-${runId}-${costUsd}`,
        metadata: {},
      },
    ]);
  }

  async stop(): Promise<void> {
    for (const core of this.others) await core.stop();
    await this.core.stop();
    await this.engine.stop();
    await this.authorizer.close();
    await this.db.close();
    await this.pg.drop();
  }

  /** Who a surface user is: a person of the fixture, or unknown (in words). */
  person(name: string): ChatPerson {
    const principal = this.people.get(name);
    return principal
      ? { principal }
      : { refusal: "I couldn't find you in Switchboard: ask your admins to add you." };
  }

  private delivery = 0;

  /** A message to the bot from `name` in `room` (its thread), mentioned unless told. */
  message(
    name: string,
    room: string,
    text: string,
    options: { mentioned?: boolean; deliveryId?: string } = {},
  ): IncomingChatMessage<Room> {
    this.delivery += 1;
    return {
      surface: "teams",
      deliveryId: options.deliveryId ?? `delivery-${this.delivery}`,
      from: { ref: `ref-${name}`, person: async () => this.person(name) },
      where: "channel-1",
      threadKey: `channel-1:${room}`,
      text,
      mentioned: options.mentioned ?? true,
      direct: false,
      replyTarget: { room },
    };
  }
}

/** A fixture for the test file: started before its tests, stopped after them. */
export function useChatFixture(): () => ChatFixture {
  let fixture: ChatFixture | undefined;
  beforeAll(async () => {
    fixture = await ChatFixture.start();
  }, 60_000);
  afterAll(async () => {
    await fixture?.stop();
  });
  return () => {
    if (!fixture) throw new Error("the chat fixture has not started");
    return fixture;
  };
}
