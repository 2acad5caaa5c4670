import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackWebApiDouble } from "./doubles/slack-web-api.js";
import { eventually } from "./support/eventually.js";
import { findOpenFgaBinary, OpenFgaServer } from "./support/openfga-server.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { RedisServer } from "./support/redis-server.js";
import { RoundRobin } from "./support/round-robin.js";
import { SlackEventSender } from "./support/slack-events.js";
import { APP_TOKEN, agentManifest, BOT_TOKEN, SIGNING_SECRET } from "./support/slack-harness.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * Switchboard scaled out as the README's deployment section describes: two `serve` and two
 * `worker` processes sharing PostgreSQL, Redis and one OpenFGA server, the web processes
 * behind a round-robin balancer. Slack's events reach whichever web process the balancer
 * picks (a retry usually another one); every mention is answered exactly once.
 */

const MENTIONS = 40;
const binary = findOpenFgaBinary();
if (binary.missing) console.log(`skipped: the fleet behind a balancer: ${binary.missing}`);

const root = mkdtempSync(join(tmpdir(), "switchboard-fleet-scale-"));
const processes: SwitchboardProcess[] = [];
let database: TestDatabase | undefined;
let redis: RedisServer | undefined;
let openfga: OpenFgaServer | undefined;
let slack: SlackWebApiDouble;
let balancer: RoundRobin | undefined;
let events: SlackEventSender;

beforeAll(async () => {
  if (!binary.path) return;
  database = await createTestDatabase("fleet_scale");
  redis = await RedisServer.start();
  openfga = await OpenFgaServer.start(binary.path);
  slack = await SlackWebApiDouble.start({
    botToken: BOT_TOKEN,
    appToken: APP_TOKEN,
    users: [{ id: "UADA", email: "ada@example.com", name: "Ada" }],
  });
  const servePorts = [await freePort(), await freePort()];
  balancer = await RoundRobin.start(servePorts);
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    OPENFGA_API_URL: openfga.url,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PUBLIC_URL: balancer.url,
    LOG_LEVEL: "warn",
    RUN_LEASE_MS: "3000",
    // One person sends the whole burst here, standing for many.
    RUN_MAX_PER_USER: "1000",
    RUN_MAX_PER_AGENT: "1000",
  };
  const file = join(root, "helpdesk.yaml");
  writeFileSync(
    file,
    agentManifest({
      name: "helpdesk",
      title: "IT helpdesk",
      runtime: "    type: demo\n    delay_ms: 50",
      run: ['"user:*"'],
    }),
  );
  // Before any process starts: the first one finds or makes the OpenFGA store.
  for (const command of [
    ["agents", "apply", file],
    ["agents", "feature", "helpdesk"],
  ]) {
    const ran = await runSwitchboard(command, env);
    expect(ran.code, ran.stderr).toBe(0);
  }
  const started: Promise<number>[] = [];
  for (const port of servePorts) {
    const serve = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
    processes.push(serve);
    started.push(serve.waitFor(`http://127.0.0.1:${port}/readyz`, 120_000));
  }
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const worker = new SwitchboardProcess(["worker", "--port", String(port)], env);
    processes.push(worker);
    started.push(worker.waitFor(`http://127.0.0.1:${port}/readyz`, 120_000));
  }
  await Promise.all(started);
  events = new SlackEventSender(
    `${balancer.url}/slack/events`,
    SIGNING_SECRET,
    slack.teamId,
    slack.botUserId,
    slack.responseUrl,
  );
}, 240_000);

afterAll(async () => {
  for (const child of processes) child.signal("SIGTERM");
  await Promise.all(processes.map((child) => child.exited));
  await balancer?.close();
  await slack?.close();
  await openfga?.stop();
  await redis?.stop();
  await database?.drop();
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!binary.path)("two serve and two worker processes behind a balancer", () => {
  it("answers every mention of a burst exactly once, whichever process each delivery reached", {
    timeout: 180_000,
  }, async () => {
    slack.allow(
      "assistant.threads.setStatus",
      "chat.postMessage",
      "chat.startStream",
      "chat.update",
    );
    const threads = Array.from(
      { length: MENTIONS },
      (_, i) => `1760000000.${String(i + 1).padStart(6, "0")}`,
    );
    const sent = await Promise.all(
      threads.map((ts, i) => events.mention("UADA", `helpdesk request number ${i}`, ts)),
    );
    expect(sent.map(({ response }) => response.status)).toEqual(threads.map(() => 200));
    // Slack delivers a mention again: as a `message` event too, and as retries of the event,
    // each through the balancer (so mostly to the other web process).
    const again = await Promise.all(
      threads.slice(0, 10).flatMap((ts, i) => [
        events.message("UADA", `<@${slack.botUserId}> helpdesk request number ${i}`, ts),
        events.event(
          {
            type: "app_mention",
            user: "UADA",
            text: `<@${slack.botUserId}> helpdesk request number ${i}`,
            ts,
            channel: "C0GENERAL",
          },
          { eventId: sent[i]?.eventId, retryNum: 1 },
        ),
      ]),
    );
    expect(again.every(({ response }) => response.status === 200)).toBe(true);

    const finalAnswers = () =>
      slack.calls.filter((call) =>
        JSON.stringify(call.args.blocks ?? "").includes("View on Switchboard"),
      );
    await eventually(async () => expect(finalAnswers()).toHaveLength(MENTIONS), 150_000);
    // A moment more: nothing answered twice late.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const working = slack.calls.filter((call) => call.method === "chat.postMessage");
    expect(working.map((call) => call.args.thread_ts).sort()).toEqual([...threads].sort());
    const seen = slack.calls.filter((call) => call.method === "reactions.add");
    expect(seen.map((call) => call.args.timestamp).sort()).toEqual([...threads].sort());
    const answered = new Map<string, number>();
    for (const call of finalAnswers()) {
      const thread = working.find((post) => post.response?.ts === call.args.ts)?.args.thread_ts;
      answered.set(String(thread), (answered.get(String(thread)) ?? 0) + 1);
    }
    expect([...answered.keys()].sort()).toEqual([...threads].sort());
    expect([...answered.values()].every((count) => count === 1)).toBe(true);
    for (const [i, ts] of threads.entries()) {
      const answer = finalAnswers().find(
        (call) => call.args.ts === working.find((post) => post.args.thread_ts === ts)?.response?.ts,
      );
      expect(JSON.stringify(answer?.args.blocks), ts).toContain(`request number ${i}\\"`);
    }
    expect(slack.unexpected).toEqual([]);
    // Both web processes took part, and every process is still up.
    expect(balancer?.connections.every((count) => count > 0)).toBe(true);
    for (const child of processes) expect(child.exit, child.stderr).toBeUndefined();
  });
});
