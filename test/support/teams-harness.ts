import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BotConnectorDouble, type TeamsMember } from "../doubles/bot-connector.js";
import { BotFrameworkKeysDouble, type TokenClaims } from "../doubles/bot-framework-keys.js";
import { EntraTokenDouble } from "../doubles/entra-token.js";
import { freePort } from "./ports.js";
import { runSwitchboard, SwitchboardProcess } from "./switchboard-process.js";

export const TEAMS_APP_ID = "0b8a3c54-6c1e-4f0e-9b3a-5d1f2e7c9a11";
export const TEAMS_TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const TEAMS_APP_PASSWORD = "Kq8~teams-bot-secret-do-not-log";
export const BOT_ID = `28:${TEAMS_APP_ID}`;

// biome-ignore lint/suspicious/noExplicitAny: activities are the Bot Framework's loose JSON.
export type Activity = Record<string, any>;

export interface TeamsHarnessOptions {
  members: TeamsMember[];
  agents: Record<string, string>;
  commands?: string[][];
  env?: Record<string, string>;
}

/**
 * `switchboard serve` with the Teams bot switched on, its token checks pointed at a local
 * OpenID metadata + keys double, its outgoing token at an Entra double, and its replies at a
 * Bot Connector double (the serviceUrl the activities name): what the Teams tests start from.
 */
export class TeamsHarness {
  private counter = 0;

  private constructor(
    readonly root: string,
    readonly keys: BotFrameworkKeysDouble,
    readonly entra: EntraTokenDouble,
    readonly connector: BotConnectorDouble,
    public serve: SwitchboardProcess,
    public baseUrl: string,
    readonly env: Record<string, string>,
  ) {}

  static async start(options: TeamsHarnessOptions): Promise<TeamsHarness> {
    const root = mkdtempSync(join(tmpdir(), "switchboard-teams-"));
    const keys = await BotFrameworkKeysDouble.start();
    const entra = await EntraTokenDouble.start({
      tenantId: TEAMS_TENANT_ID,
      appId: TEAMS_APP_ID,
      appPassword: TEAMS_APP_PASSWORD,
    });
    const connector = await BotConnectorDouble.start(entra, options.members, TEAMS_TENANT_ID);
    const env: Record<string, string> = {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      TEAMS_APP_ID,
      TEAMS_APP_PASSWORD,
      TEAMS_TENANT_ID,
      TEAMS_OPENID_METADATA_URL: keys.metadataUrl,
      TEAMS_TOKEN_URL: entra.tokenUrl,
      RUN_MAX_ATTEMPTS: "1",
      ...options.env,
    };
    const agents = join(root, "agents");
    mkdirSync(agents);
    for (const [file, manifest] of Object.entries(options.agents)) {
      writeFileSync(join(agents, file), manifest);
    }
    const applied = await runSwitchboard(["agents", "apply", agents], env);
    if (applied.code !== 0) throw new Error(`agents apply failed:\n${applied.stderr}`);
    for (const command of options.commands ?? []) {
      const ran = await runSwitchboard(command, env);
      if (ran.code !== 0) throw new Error(`${command.join(" ")} failed:\n${ran.stderr}`);
    }
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const serve = new SwitchboardProcess(["serve"], {
      ...env,
      PORT: String(port),
      PUBLIC_URL: baseUrl,
    });
    await serve.waitFor(`${baseUrl}/readyz`, 90_000);
    return new TeamsHarness(root, keys, entra, connector, serve, baseUrl, env);
  }

  /** A token as the Bot Connector signs it for this bot and this serviceUrl. */
  token(claims: TokenClaims = {}, options: { keyId?: string; forged?: boolean } = {}): string {
    return this.keys.sign(
      { aud: TEAMS_APP_ID, serviceurl: this.connector.serviceUrl, ...claims },
      options,
    );
  }

  /** Posts an activity to /api/messages with `token` (a valid one unless given; null: none). */
  async post(activity: Activity, token: string | null = this.token()) {
    const response = await fetch(`${this.baseUrl}/api/messages`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(activity),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Activity) : undefined };
  }

  /** A message activity from `member`, in a channel's reply chain, a group chat or 1:1. */
  message(
    member: TeamsMember,
    text: string,
    where: {
      kind: "channel" | "personal" | "groupChat";
      /** The channel's reply chain root (its first message's id); new when unset. */
      root?: string;
      mention?: boolean;
      id?: string;
    },
  ): Activity {
    const id = where.id ?? `${Date.now()}${++this.counter}`;
    const conversationId =
      where.kind === "channel"
        ? `19:general-channel@thread.tacv2;messageid=${where.root ?? id}`
        : where.kind === "personal"
          ? `a:1personal-${member.aadObjectId}`
          : "19:group-chat@thread.v2";
    const mention = where.mention ?? where.kind !== "personal";
    return {
      ...this.envelope(member, conversationId, where.kind),
      type: "message",
      id,
      textFormat: "plain",
      text: mention ? `<at>Agents</at> ${text}` : text,
      entities: mention
        ? [{ type: "mention", text: "<at>Agents</at>", mentioned: { id: BOT_ID, name: "Agents" } }]
        : [],
    };
  }

  /** An invoke activity (message extension, card action) from `member`. */
  invoke(member: TeamsMember, name: string, value: Activity, kind = "channel"): Activity {
    const conversationId =
      kind === "channel" ? "19:general-channel@thread.tacv2" : `a:1personal-${member.aadObjectId}`;
    return {
      ...this.envelope(member, conversationId, kind),
      type: "invoke",
      id: `f:${randomUUID()}`,
      name,
      value,
    };
  }

  private envelope(member: TeamsMember, conversationId: string, kind: string): Activity {
    return {
      timestamp: new Date().toISOString(),
      serviceUrl: this.connector.serviceUrl,
      channelId: "msteams",
      from: { id: member.id, name: member.name, aadObjectId: member.aadObjectId },
      conversation: { id: conversationId, conversationType: kind, tenantId: TEAMS_TENANT_ID },
      recipient: { id: BOT_ID, name: "Agents" },
      channelData: { tenant: { id: TEAMS_TENANT_ID } },
      locale: "en-US",
    };
  }

  /** Kills serve (SIGKILL: no goodbye) and starts it again, on a new port, on the same data. */
  async killAndRestart(): Promise<void> {
    this.serve.signal("SIGKILL");
    await this.serve.exited;
    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.serve = new SwitchboardProcess(["serve"], {
      ...this.env,
      PORT: String(port),
      PUBLIC_URL: this.baseUrl,
    });
    await this.serve.waitFor(`${this.baseUrl}/readyz`, 90_000);
  }

  /** Fails the test on any request a double did not expect (the connector's, the keys', Entra's). */
  verify(): void {
    this.connector.verify();
    this.keys.verify();
    this.entra.verify();
  }

  async close(): Promise<void> {
    this.serve.signal("SIGTERM");
    await this.serve.exited;
    await Promise.all([this.keys.close(), this.entra.close(), this.connector.close()]);
    rmSync(this.root, { recursive: true, force: true });
  }
}
