import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { eventually } from "./support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "./support/http.js";
import { freePort } from "./support/ports.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * The runs engine's promise: a process killed (-9) in the middle of a run loses nothing and
 * duplicates nothing. Real processes (`switchboard serve`, `switchboard worker`), real
 * PostgreSQL, Redis and PGlite; the agent is the built-in demo runtime slowed down, so a turn
 * takes a few seconds and there is a "middle" to kill it in. People following a run over SSE
 * see its whole timeline once, in order, across the kill and while the database is busy.
 */

const REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
const USER = "ada@example.com";
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

const root = mkdtempSync(join(tmpdir(), "switchboard-runs-recovery-"));
const running: SwitchboardProcess[] = [];
const databases: TestDatabase[] = [];
const streams: AbortController[] = [];

function start(args: string[], env: Record<string, string>): SwitchboardProcess {
  const child = new SwitchboardProcess(args, env);
  running.push(child);
  return child;
}

const redisPrefixes: string[] = [];

afterEach(async () => {
  for (const stream of streams.splice(0)) stream.abort();
  await Promise.all(running.splice(0).map((child) => child.kill()));
  await Promise.all(databases.splice(0).map((db) => db.drop()));
  for (const prefix of redisPrefixes.splice(0)) await dropRedisKeys(prefix);
});

function redisPrefix(): string {
  const prefix = `sbtest-${randomBytes(4).toString("hex")}`;
  redisPrefixes.push(prefix);
  return prefix;
}

/** Removes what a test's processes left in the shared Redis under their prefix. */
async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An agent Ada may run: by default the demo, slowed down (a turn takes about three seconds). */
function agentManifest(name: string, runtime = "type: demo\n    delay_ms: 200"): string {
  const file = join(root, `${name}-${randomBytes(3).toString("hex")}.yaml`);
  writeFileSync(
    file,
    `apiVersion: switchboard/v1
kind: Agent
metadata:
  name: ${name}
  title: Slow echo
  owner: team:platform
spec:
  runtime:
    ${runtime}
  access:
    view: [user:${USER}]
    run: [user:${USER}]
`,
  );
  return file;
}

/** Applies the agent and makes Ada's API key, as an operator would, before anything serves. */
async function setUp(
  env: Record<string, string>,
  agent: string,
  runtime?: string,
): Promise<string> {
  const applied = await runSwitchboard(["agents", "apply", agentManifest(agent, runtime)], env);
  expect(applied.code, applied.stderr).toBe(0);
  const created = await runSwitchboard(["keys", "create", "--user", USER], env);
  expect(created.code, created.stderr).toBe(0);
  return created.stdout.trim().split("\n").at(-1) ?? "";
}

class Api {
  constructor(
    readonly base: string,
    private readonly key: string,
  ) {}

  request(method: string, path: string, body?: unknown): Promise<Response> {
    return apiRequest(this.base, this.key, method, path, body);
  }

  async startRun(agent: string, input: string, sessionId?: string): Promise<JsonBody> {
    const response = await this.request("POST", `/agents/${agent}/runs`, {
      input,
      ...(sessionId ? { session_id: sessionId } : {}),
    });
    const body = await readJson(response);
    expect(response.status, JSON.stringify(body)).toBe(201);
    return body;
  }

  async run(id: string): Promise<JsonBody> {
    return readJson(await this.request("GET", `/runs/${id}`));
  }

  async session(id: string): Promise<JsonBody> {
    return readJson(await this.request("GET", `/sessions/${id}`));
  }

  /** Waits until every run has finished, and answers them as they ended. */
  async finished(ids: readonly string[], timeoutMs = 90_000): Promise<JsonBody[]> {
    return eventually(async () => {
      const runs = await Promise.all(ids.map((id) => this.run(id)));
      for (const run of runs)
        expect(FINISHED.has(run.status), `${run.id} is ${run.status}`).toBe(true);
      return runs;
    }, timeoutMs);
  }
}

interface SseEvent {
  seq: number;
  type: string;
  data: JsonBody;
}

/**
 * A client following GET /runs/{id}/events the way a browser's EventSource does: when the
 * stream breaks off (the server went away) it reconnects, again and again, sending the id
 * of the last event it saw as Last-Event-ID; it stops at the run's closing run.status.
 */
class SseFollower {
  readonly events: SseEvent[] = [];
  reconnects = 0;
  readonly done: Promise<void>;
  private readonly abort = new AbortController();

  constructor(
    private readonly url: () => string,
    private readonly key: string,
  ) {
    streams.push(this.abort);
    this.done = this.follow();
  }

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  private async follow(): Promise<void> {
    let first = true;
    while (!this.abort.signal.aborted) {
      if (!first) {
        this.reconnects += 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      first = false;
      try {
        const response = await fetch(this.url(), {
          headers: {
            authorization: `Bearer ${this.key}`,
            accept: "text/event-stream",
            ...(this.lastSeq > 0 ? { "last-event-id": String(this.lastSeq) } : {}),
          },
          signal: this.abort.signal,
        });
        if (response.status !== 200 || !response.body) {
          await response.body?.cancel();
          continue; // not up yet (503 while starting): try again
        }
        if (await this.read(response.body)) return;
      } catch {
        // refused or dropped: the server is down; try again
      }
    }
  }

  /** Reads one connection; true once the closing event has come. */
  private async read(body: ReadableStream<Uint8Array>): Promise<boolean> {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end === -1) break;
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of block.split("\n")) {
          const colon = line.indexOf(":");
          if (colon <= 0) continue;
          fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ""));
        }
        const id = fields.get("id");
        if (id === undefined) continue; // retry:, keep-alives, the "broke off" notice
        const event = {
          seq: Number(id),
          type: fields.get("event") ?? "message",
          data: JSON.parse(fields.get("data") ?? "{}") as JsonBody,
        };
        this.events.push(event);
        if (event.type === "run.status" && FINISHED.has(event.data.status)) return true;
      }
    }
    return false;
  }
}

/** What a run's timeline must look like after any number of kills: 1..n, one closing event, last. */
function expectWholeTimeline(runId: string, seqs: number[], types: string[], statuses: unknown[]) {
  expect(seqs, `seqs of ${runId}`).toEqual(seqs.map((_, i) => i + 1));
  const closing = statuses
    .map((status, i) => ({ status, type: types[i] }))
    .filter((event) => event.type === "run.status" && FINISHED.has(event.status as string));
  expect(closing, `closing events of ${runId}`).toEqual([
    { status: "succeeded", type: "run.status" },
  ]);
  expect(statuses.at(-1), `last event of ${runId}`).toBe("succeeded");
}

/** The transcript of a session whose runs all succeeded: each input, then its one answer, in order. */
function expectTranscript(session: JsonBody, runs: JsonBody[], inputs: string[]) {
  expect(
    session.transcript.map((entry: JsonBody) => [entry.role, entry.run_id]),
    `transcript of ${session.id}`,
  ).toEqual(
    runs.flatMap((run) => [
      ["user", run.id],
      ["agent", run.id],
    ]),
  );
  session.transcript
    .filter((entry: JsonBody) => entry.role === "agent")
    .forEach((entry: JsonBody, i: number) => {
      expect(entry.content).toBe(
        `You said: "${inputs[i]}". This is turn ${i + 1} of our conversation.`,
      );
    });
}

describe("a worker killed mid-run (BullMQ on Redis, PostgreSQL)", { timeout: 300_000 }, () => {
  it("finishes every run exactly once, in order within each session, with nothing lost or doubled", async () => {
    const db = await createTestDatabase("runs_recovery");
    databases.push(db);
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
      RUN_LEASE_MS: "1500",
      RUN_RETRY_BACKOFF_MS: "100",
      LOG_LEVEL: "warn",
    };
    const key = await setUp(env, "slow-echo");
    const port = await freePort();
    const serve = start(["serve"], { ...env, PORT: String(port) });
    const workerEnv = { ...env, LOG_LEVEL: "info" };
    const workers = [start(["worker"], workerEnv), start(["worker"], workerEnv)];
    await serve.waitFor(`http://127.0.0.1:${port}/readyz`, 90_000);
    const api = new Api(`http://127.0.0.1:${port}`, key);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // Both workers take runs once they say so, so the runs spread over both.
      for (const w of workers) {
        await eventually(async () => expect(w.stdout).toContain("worker started"), 90_000);
      }

      // Four conversations; the first two have a second turn queued behind the first.
      const inputs: string[][] = [
        ["hello one", "and again one"],
        ["hello two", "and again two"],
        ["hello three"],
        ["hello four"],
      ];
      const firstRuns = await Promise.all(
        inputs.map((turns) => api.startRun("slow-echo", turns[0] as string)),
      );
      const sessionRuns: JsonBody[][] = firstRuns.map((run) => [run]);
      for (const [i, turns] of inputs.entries()) {
        for (const input of turns.slice(1)) {
          const session = sessionRuns[i] as JsonBody[];
          session.push(await api.startRun("slow-echo", input, session[0]?.session_id));
        }
      }
      const allRuns = sessionRuns.flat();
      const followers = new Map(
        allRuns.map((run) => [
          run.id as string,
          new SseFollower(() => `${api.base}/api/v1/runs/${run.id}/events`, key),
        ]),
      );

      // Mid-run: a run with part of its answer streamed, on a session a worker holds.
      const victim = await eventually(async () => {
        const { rows } = await client.query<{ run_id: string; lease_owner: string }>(
          `select r.id as run_id, s.lease_owner
             from runs r join sessions s on s.id = r.session_id
            where r.status = 'running' and s.lease_owner is not null
              and r.id = any($1::uuid[])
              and (select count(*) from run_events e
                    where e.run_id = r.id and e.type = 'message.delta') >= 3`,
          [allRuns.map((run) => run.id)],
        );
        expect(rows.length).toBeGreaterThan(0);
        return rows[0] as { run_id: string; lease_owner: string };
      }, 60_000);
      const pid = Number(victim.lease_owner.split(":").at(-2));
      const killed = workers.find((w) => w.pid === pid);
      expect(killed, `lease owner ${victim.lease_owner} is one of the workers`).toBeDefined();
      killed?.signal("SIGKILL");
      await killed?.exited;
      // Every run the dead worker had in hand, as it left them.
      const { rows: orphans } = await client.query<{ id: string }>(
        "select id from runs where status = 'running' and worker_id = $1",
        [victim.lease_owner],
      );
      expect(orphans.map((row) => row.id)).toContain(victim.run_id);

      const runs = await api.finished(allRuns.map((run) => run.id as string));
      expect(runs.map((run) => run.status)).toEqual(allRuns.map(() => "succeeded"));

      // The transcript: one answer per run, the turns of a session answered in order.
      for (const [i, session] of sessionRuns.entries()) {
        const detail = await api.session(session[0]?.session_id);
        expectTranscript(detail, session, inputs[i] as string[]);
      }

      // Each timeline whole: seqs 1..n, one closing event; the orphaned runs were recovered
      // by another worker in a second attempt, said so in their timeline.
      const { rows: events } = await client.query<{
        run_id: string;
        seq: number;
        type: string;
        data: JsonBody;
      }>(
        "select run_id, seq, type, data from run_events where run_id = any($1::uuid[]) order by run_id, seq",
        [allRuns.map((run) => run.id)],
      );
      for (const run of allRuns) {
        const own = events.filter((event) => event.run_id === run.id);
        expectWholeTimeline(
          run.id,
          own.map((event) => event.seq),
          own.map((event) => event.type),
          own.map((event) => event.data.status),
        );
      }
      for (const { id } of orphans) {
        const own = events.filter((event) => event.run_id === id && event.type === "run.status");
        expect(own.at(-2)?.data, `recovery of ${id}`).toEqual({
          status: "running",
          attempt: 2,
          recovered: true,
        });
        expect(runs.find((run) => run.id === id)?.attempt).toBe(2);
      }
      // The one killed mid-answer: started once, stopped by the kill, finished by attempt 2.
      expect(
        events
          .filter((event) => event.run_id === victim.run_id && event.type === "run.status")
          .map((event) => event.data),
      ).toEqual([
        { status: "queued" },
        { status: "running", attempt: 1 },
        { status: "running", attempt: 2, recovered: true },
        { status: "succeeded" },
      ]);

      // The ledger: the usage of each run booked once, by the attempt that finished it.
      const { rows: ledger } = await client.query<{ run_id: string; rows: string }>(
        "select run_id, count(*) as rows from ledger where run_id = any($1::uuid[]) group by run_id",
        [allRuns.map((run) => run.id)],
      );
      expect(Object.fromEntries(ledger.map((row) => [row.run_id, Number(row.rows)]))).toEqual(
        Object.fromEntries(allRuns.map((run) => [run.id, 1])),
      );

      // Someone watching each run over SSE saw its whole timeline, once, in order, across
      // the kill (the web process stayed up; the stream carried on through the handover).
      for (const run of allRuns) {
        const follower = followers.get(run.id) as SseFollower;
        await follower.done;
        const own = events.filter((event) => event.run_id === run.id);
        expect(
          follower.events.map((event) => [event.seq, event.type]),
          `SSE events of ${run.id}`,
        ).toEqual(own.map((event) => [event.seq, event.type]));
      }
    } finally {
      await client.end();
    }
  });
});

describe("serve killed mid-run on the embedded database", { timeout: 300_000 }, () => {
  it("finishes the run once after a restart, and an SSE client that reconnects sees every event once", async () => {
    const env = { SWITCHBOARD_DATA_DIR: join(root, "embedded"), LOG_LEVEL: "warn" };
    const key = await setUp(env, "slow-echo");
    const port = await freePort();
    const serveEnv = { ...env, PORT: String(port) };
    const base = `http://127.0.0.1:${port}`;
    const first = start(["serve"], serveEnv);
    await first.waitFor(`${base}/readyz`, 90_000);
    const api = new Api(base, key);

    const run = await api.startRun("slow-echo", "survive this");
    const follower = new SseFollower(() => `${base}/api/v1/runs/${run.id}/events`, key);
    // Mid-run: part of the answer has been streamed.
    await eventually(async () => {
      expect(
        follower.events.filter((event) => event.type === "message.delta").length,
      ).toBeGreaterThanOrEqual(3);
    }, 60_000);
    first.signal("SIGKILL");
    await first.exited;
    const seenBeforeKill = follower.lastSeq;

    const second = start(["serve"], serveEnv);
    await second.waitFor(`${base}/readyz`, 90_000);
    const [finished] = await api.finished([run.id]);
    expect(finished).toMatchObject({ status: "succeeded", attempt: 2 });

    const session = await api.session(run.session_id);
    expectTranscript(session, [run], ["survive this"]);

    await follower.done;
    expect(follower.reconnects).toBeGreaterThan(0);
    const seqs = follower.events.map((event) => event.seq);
    expectWholeTimeline(
      run.id,
      seqs,
      follower.events.map((event) => event.type),
      follower.events.map((event) => event.data.status),
    );
    expect(seqs.at(-1)).toBeGreaterThan(seenBeforeKill);
    const statuses = follower.events
      .filter((event) => event.type === "run.status")
      .map(({ data: { at: _at, ...data } }) => data);
    expect(statuses).toEqual([
      { status: "queued" },
      { status: "running", attempt: 1 },
      { status: "running", attempt: 2, recovered: true },
      { status: "succeeded" },
    ]);
  });
});

describe("following streamed answers while the database is busy", { timeout: 300_000 }, () => {
  it("shows every event of every run, in order, before the run's end", async () => {
    // An agent behind the HTTP runtime that streams its answer in pieces, as models do.
    const agent = createServer((req, res) => {
      req.resume();
      req.on("end", async () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (let i = 0; i < 8; i++) {
          res.write(`event: delta\ndata: ${JSON.stringify({ text: `piece ${i} ` })}\n\n`);
          await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 10));
        }
        res.end("event: done\ndata: {}\n\n");
      });
    });
    await new Promise<void>((resolve) => agent.listen(0, "127.0.0.1", resolve));
    try {
      const db = await createTestDatabase("runs_sse");
      databases.push(db);
      // Few connections for many runs: event batches and closing transactions queue for them.
      // The agent runs on loopback, which a Switchboard on PostgreSQL must be told it may reach.
      const env = {
        DATABASE_URL: db.url,
        DATABASE_POOL_MAX: "3",
        LOG_LEVEL: "warn",
        RUNTIME_EGRESS_ALLOW: "127.0.0.1",
      };
      const { port: agentPort } = agent.address() as AddressInfo;
      const key = await setUp(
        env,
        "streamer",
        `type: http\n    url: http://127.0.0.1:${agentPort}/turn`,
      );
      const port = await freePort();
      start(["serve"], { ...env, PORT: String(port) });
      const api = new Api(`http://127.0.0.1:${port}`, key);
      await eventually(
        async () => expect((await fetch(`${api.base}/readyz`)).status).toBe(200),
        90_000,
      );

      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        for (let round = 0; round < 3; round++) {
          const runs = await Promise.all(
            Array.from({ length: 30 }, (_, i) =>
              api.startRun("streamer", `question ${round}.${i}`),
            ),
          );
          const followers = runs.map(
            (run) => new SseFollower(() => `${api.base}/api/v1/runs/${run.id}/events`, key),
          );
          await Promise.all(followers.map((follower) => follower.done));
          for (const [i, run] of runs.entries()) {
            const { rows } = await client.query<{ seq: number; type: string }>(
              "select seq, type from run_events where run_id = $1 order by seq",
              [run.id],
            );
            expect(
              followers[i]?.events.map((event) => [event.seq, event.type]),
              `SSE events of ${run.id}`,
            ).toEqual(rows.map((row) => [row.seq, row.type]));
            expect(rows.filter((row) => row.type === "message.delta")).toHaveLength(8);
          }
        }
      } finally {
        await client.end();
      }
    } finally {
      agent.closeAllConnections();
      agent.close();
    }
  });
});
