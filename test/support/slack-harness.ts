import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SlackUser, SlackWebApiDouble } from "../doubles/slack-web-api.js";
import { freePort } from "./ports.js";
import { SlackEventSender } from "./slack-events.js";
import { runSwitchboard, SwitchboardProcess } from "./switchboard-process.js";

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const BOT_TOKEN = "xoxb-test-0000-switchboard";
export const APP_TOKEN = "xapp-1-test-0000-switchboard";

export interface SlackHarnessOptions {
  users: SlackUser[];
  /** Agent manifests by file name, applied before serve starts. */
  agents: Record<string, string>;
  /**
   * `switchboard` commands run after the agents are applied, before serve starts: e.g.
   * `["agents", "feature", "helpdesk"]`, so people may pick it by name in chat.
   */
  commands?: string[][];
  /** More environment for serve (e.g. SLACK_APP_TOKEN for Socket Mode). */
  env?: Record<string, string>;
  /** Called once the Web API double runs, before serve starts (Socket Mode needs its URL). */
  beforeServe?: (slack: SlackWebApiDouble) => Promise<Record<string, string> | undefined>;
}

/**
 * `switchboard serve` with Slack switched on, its Web API client pointed at a local double,
 * and a sender of signed Slack requests to it: what the Slack tests start from.
 */
export class SlackHarness {
  private constructor(
    readonly root: string,
    readonly slack: SlackWebApiDouble,
    readonly serve: SwitchboardProcess,
    readonly baseUrl: string,
    readonly events: SlackEventSender,
    /** serve's environment (for a `switchboard worker` next to it). */
    readonly env: Record<string, string>,
    /** What each of `options.commands` printed, in order (e.g. an API key `keys create` made). */
    readonly commandOutputs: string[] = [],
  ) {}

  static async start(options: SlackHarnessOptions): Promise<SlackHarness> {
    const root = mkdtempSync(join(tmpdir(), "switchboard-slack-"));
    const slack = await SlackWebApiDouble.start({
      botToken: BOT_TOKEN,
      appToken: APP_TOKEN,
      users: options.users,
    });
    const extra = (await options.beforeServe?.(slack)) ?? {};
    const env: Record<string, string> = {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      RUN_MAX_ATTEMPTS: "1",
      ...options.env,
      ...extra,
    };
    const agents = join(root, "agents");
    mkdirSync(agents);
    for (const [file, manifest] of Object.entries(options.agents)) {
      writeFileSync(join(agents, file), manifest);
    }
    const applied = await runSwitchboard(["agents", "apply", agents], env);
    if (applied.code !== 0) throw new Error(`agents apply failed:\n${applied.stderr}`);
    const commandOutputs: string[] = [];
    for (const command of options.commands ?? []) {
      const ran = await runSwitchboard(command, env);
      if (ran.code !== 0) throw new Error(`${command.join(" ")} failed:\n${ran.stderr}`);
      commandOutputs.push(ran.stdout);
    }
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const serve = new SwitchboardProcess(["serve"], {
      ...env,
      PORT: String(port),
      PUBLIC_URL: baseUrl,
    });
    await serve.waitFor(`${baseUrl}/readyz`, 90_000);
    const events = new SlackEventSender(
      `${baseUrl}/slack/events`,
      SIGNING_SECRET,
      slack.teamId,
      slack.botUserId,
      slack.responseUrl,
    );
    return new SlackHarness(root, slack, serve, baseUrl, events, env, commandOutputs);
  }

  async close(): Promise<void> {
    this.serve.signal("SIGTERM");
    await this.serve.exited;
    await this.slack.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** An agent manifest for the tests. */
export function agentManifest(options: {
  name: string;
  title: string;
  description?: string;
  /** `team:SLUG` or `user:EMAIL`; team:platform unless given. */
  owner?: string;
  runtime?: string;
  view?: string[];
  run: string[];
  skills?: string;
}): string {
  return `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: ${options.name}
  title: ${options.title}
  description: ${options.description ?? "Answers questions about laptops, VPN and passwords"}
  owner: ${options.owner ?? "team:platform"}
spec:
  runtime:
${options.runtime ?? "    type: demo"}
${options.skills ?? ""}  access:
    view: [${(options.view ?? ['"user:*"']).join(", ")}]
    run: [${options.run.join(", ")}]
`;
}
