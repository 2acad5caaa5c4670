/**
 * Teams, measured against a real `switchboard serve` (embedded defaults: PGlite, in-process
 * runs) with the Teams bot on, its token checks, outgoing token and replies pointed at the
 * local doubles the tests use (test/support/teams-harness.ts):
 *
 * 1. Activity to HTTP answer: from writing a signed message activity (an `@agents helpdesk`
 *    mention in a channel, each in a reply chain of its own) to serve's HTTP answer, one at a
 *    time and 100 at once. Every request's token is checked (signature, issuer, audience,
 *    expiry, serviceurl); one token per round, as the Bot Connector reuses its token, so
 *    its signature is verified once and its expiry and serviceurl on every request.
 * 2. Activity to first reply: from the write to the Bot Connector double receiving the first
 *    activity in that reply chain (the "working on it" message), the same two ways.
 * 3. In 1:1 chats, 100 people at once (each a first contact, so the slow part includes the
 *    roster lookup): activity to the typing activity (the first sign of life, sent when the
 *    message is claimed) and to the first reply (the answer's stream starting).
 *
 *   npx tsx bench/teams/run.ts [--quick]
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { agentManifest } from "../../test/support/slack-harness.js";
import { TeamsHarness } from "../../test/support/teams-harness.js";

const run = promisify(execFile);
const quick = process.argv.includes("--quick");
const WARMUP = 10;
const SEQUENTIAL = quick ? 30 : 100;
const BURST = 100;

const ada = {
  id: "29:1ada",
  aadObjectId: "6f1c2b9e-0000-4000-8000-00000000ada1",
  name: "Ada Lovelace",
  email: "ada@example.com",
};

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

let round = 0;
let roots = 0;

const chatters = Array.from({ length: BURST }, (_, i) => ({
  id: `29:1chatter${i}`,
  aadObjectId: `6f1c2b9e-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
  name: `Chatter ${i}`,
  email: `chatter${i}@example.com`,
}));

/**
 * `count` mentions, each in a reply chain of its own, sent by burst-sender.ts; with `chats`,
 * one message from each of them in their 1:1 chat with the bot.
 */
async function send(harness: TeamsHarness, count: number, gapMs?: number, chats?: typeof chatters) {
  round += 1;
  const activities = Array.from({ length: chats?.length ?? count }, (_, i) => {
    const id = `18000000${String(++roots).padStart(6, "0")}`;
    const from = chats?.[i];
    if (from)
      return harness.message(from, "helpdesk hello from the bench", { kind: "personal", id });
    return harness.message(ada, "helpdesk hello from the bench", { kind: "channel", id });
  });
  // One token for the round, as the Bot Connector reuses its token for up to an hour.
  const token = harness.token();
  const requests = activities.map((activity) => ({ body: JSON.stringify(activity), token }));
  const file = join(harness.root, `activities-${round}.json`);
  writeFileSync(file, JSON.stringify({ url: `${harness.baseUrl}/api/messages`, requests, gapMs }));
  const sender = fileURLToPath(new URL("./burst-sender.ts", import.meta.url));
  const { stdout } = await run(process.execPath, ["--import", "tsx", sender, file], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const results = JSON.parse(stdout) as { sentAt: number; ack: number; status: number }[];
  return results.map((result, i) => {
    if (result.status !== 200) throw new Error(`activity answered ${result.status}`);
    return { conversationId: String(activities[i]?.conversation.id), ...result };
  });
}

/**
 * ms from each write to the first activity the connector received in its reply chain or
 * chat: a reply (the typing activity not counted), or with `typing` the typing activity.
 */
async function firstReplies(
  harness: TeamsHarness,
  sent: Awaited<ReturnType<typeof send>>,
  typing = false,
) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const first = new Map<string, number>();
    for (const call of harness.connector.calls) {
      if (call.method === "member" || first.has(call.conversationId)) continue;
      if ((call.method === "typing") !== typing) continue;
      first.set(call.conversationId, call.at ?? 0);
    }
    const lives = sent.map((s) => (first.get(s.conversationId) ?? Number.NaN) - s.sentAt);
    if (lives.every((life) => !Number.isNaN(life)) || Date.now() > deadline) return lives;
    await sleep(200);
  }
}

function line(name: string, values: number[]): string {
  const known = values.filter((v) => !Number.isNaN(v));
  return `| ${name} | ${known.length} | ${percentile(known, 50).toFixed(1)} | ${percentile(known, 99).toFixed(1)} | ${Math.max(...known).toFixed(1)} |`;
}

const harness = await TeamsHarness.start({
  members: [ada, ...chatters],
  agents: {
    "helpdesk.yaml": agentManifest({
      name: "helpdesk",
      title: "IT helpdesk",
      runtime: "    type: demo\n    delay_ms: 30",
      run: ['"user:*"'],
    }),
  },
  commands: [["agents", "feature", "helpdesk"]],
  env: { LOG_LEVEL: "error", RUN_MAX_PER_USER: "1000", RUN_MAX_PER_AGENT: "1000" },
});
try {
  await firstReplies(harness, await send(harness, WARMUP, 20));
  const sequential = await send(harness, SEQUENTIAL, 50);
  const sequentialLife = await firstReplies(harness, sequential);
  await sleep(2000);
  const burst = await send(harness, BURST);
  const burstLife = await firstReplies(harness, burst);
  await sleep(2000);
  const chats = await send(harness, BURST, undefined, chatters);
  const chatsTyping = await firstReplies(harness, chats, true);
  const chatsLife = await firstReplies(harness, chats);
  console.log(
    `Teams bench (embedded default), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log("| measure | n | p50 ms | p99 ms | max ms |");
  console.log("| --- | --- | --- | --- | --- |");
  console.log(
    line(
      "activity → HTTP answer, one at a time",
      sequential.map((s) => s.ack),
    ),
  );
  console.log(
    line(
      `activity → HTTP answer, ${BURST} at once`,
      burst.map((s) => s.ack),
    ),
  );
  console.log(line("activity → first reply, one at a time", sequentialLife));
  console.log(line(`activity → first reply, ${BURST} at once`, burstLife));
  console.log(line(`1:1 chats, activity → typing, ${BURST} at once`, chatsTyping));
  console.log(line(`1:1 chats, activity → first reply, ${BURST} at once`, chatsLife));
  harness.connector.verify();
} finally {
  await harness.close();
}
