import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "./support/eventually.js";
import { FaultDeployment, type Part, type RunRecord } from "./support/fault-deployment.js";
import type { JsonBody } from "./support/http.js";
import { findOpenFgaBinary, OpenFgaServer, openFgaBinaryPath } from "./support/openfga-server.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { PrivatePostgres } from "./support/private-postgres.js";
import { RedisServer } from "./support/redis-server.js";

/** OPENFGA_LIST_CACHE_TTL_MS for the OpenFGA fault: short, so the test need not wait long. */
const LIST_TTL_MS = 2_000;

/**
 * Issue 21's faults, with real processes: a dependency goes away under `serve` and `worker`
 * while runs are queued and running, and comes back. What a person sees meanwhile is an
 * answer in words (503 saying what is down), never a hang or a stack trace; /readyz names the
 * dependency that is down; nothing acknowledged is lost (every run accepted ends once, its
 * cost booked once). How long service takes to return is measured by bench/faults, not here.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

function expectEachEndedOnce(records: RunRecord[]): void {
  for (const record of records) {
    expect(record, `run ${record.id}`).toEqual({
      id: record.id,
      status: "succeeded",
      closingEvents: 1,
      seqsInOrder: true,
      ledgerRows: 1,
    });
  }
}

/** An answer a person can read: an error in words, with no stack trace or internals. */
function expectWords(body: JsonBody): void {
  expect(typeof body.error?.message, JSON.stringify(body)).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(JSON.stringify(body)).not.toMatch(/\bat .+\(.+:\d+:\d+\)|ECONNREFUSED|knex|ioredis/);
}

describe("PostgreSQL restarted under serve and worker", { timeout: 600_000 }, () => {
  it("crashes (kill -9) and restarts with runs queued and running: each run ends once, and the API says the database is down meanwhile", async () => {
    const postgres = await PrivatePostgres.start();
    cleanups.push(() => postgres.destroy());
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const deployment = await FaultDeployment.start({
      postgres,
      env: { REDIS_URL: redis.url, RUN_CONCURRENCY: "2" },
    });
    cleanups.push(() => deployment.close());
    const [web, worker] = [
      await deployment.startPart("serve"),
      await deployment.startPart("worker"),
    ];
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await deployment.startRun(web, `before the crash ${i}`));
    await deployment.waitRunning(web, ids[0] as string);

    await postgres.stop("crash");
    for (const part of [web, worker]) await deployment.notReady(part, "database");
    // A person asking meanwhile is told, in words; nothing is half-accepted.
    const refused = await deployment.tryRun(web, "while the database is down");
    expect(refused.status).toBe(503);
    expectWords(refused.body);
    const listing = await deployment.request(web, "GET", "/agents");
    expect(listing.status).toBe(503);
    expectWords((await listing.json()) as JsonBody);

    await postgres.startProcess();
    for (const part of [web, worker]) await deployment.ready(part);
    ids.push(await deployment.startRun(web, "after the restart"));
    expect(await deployment.finished(web, ids)).toEqual(ids.map(() => "succeeded"));
    expectEachEndedOnce(await deployment.records(ids));
    for (const part of [web, worker]) expect(part.process.exit).toBeUndefined();
    expect(deployment.outputProblems()).toEqual([]);
  });
});

describe("Redis killed and started again empty under serve and worker", {
  timeout: 600_000,
}, () => {
  it("loses no run that was queued or running in it: each ends once", async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const deployment = await FaultDeployment.start({
      postgres: "shared",
      // One run at a time: the others wait in Redis's queue when it goes.
      env: { REDIS_URL: redis.url, RUN_CONCURRENCY: "1" },
    });
    cleanups.push(() => deployment.close());
    const web = await deployment.startPart("serve");
    const worker = await deployment.startPart("worker");
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await deployment.startRun(web, `queued ${i}`));
    await deployment.waitRunning(web, ids[0] as string);

    // No persistence: the queue's jobs are gone with it, as with a lost Redis.
    await redis.stop();
    for (const part of [web, worker]) await deployment.notReady(part, "redis");
    // Accepted while Redis is away: stored, and run once it is back.
    ids.push(await deployment.startRun(web, "while redis is away"));
    await redis.startProcess();
    for (const part of [web, worker]) await deployment.ready(part);

    expect(await deployment.finished(web, ids)).toEqual(ids.map(() => "succeeded"));
    expectEachEndedOnce(await deployment.records(ids));
    for (const part of [web, worker]) expect(part.process.exit).toBeUndefined();
    expect(deployment.outputProblems()).toEqual([]);
  });
});

const openfga = findOpenFgaBinary();
describe.skipIf(!openfga.path)(
  "the OpenFGA server stopped and started",
  {
    timeout: 600_000,
  },
  () => {
    it("answers 503 in words while it is away, /readyz names it, and access decisions return with it", async () => {
      const store: TestDatabase = await createTestDatabase("faults_fga");
      cleanups.push(() => store.drop());
      const server = await OpenFgaServer.start(openFgaBinaryPath(), { postgresUrl: store.url });
      cleanups.push(() => server.stop());
      const deployment = await FaultDeployment.start({
        postgres: "shared",
        // A person's list of agents is kept for this long (authz/openfga/list-cache.ts), so
        // it may still be answered from memory for that long after OpenFGA goes away.
        env: { OPENFGA_API_URL: server.url, OPENFGA_LIST_CACHE_TTL_MS: String(LIST_TTL_MS) },
      });
      cleanups.push(() => deployment.close());
      const web = await deployment.startPart("serve");
      const before = await deployment.request(web, "GET", "/agents");
      expect(before.status).toBe(200);

      await server.stop();
      const body = await deployment.notReady(web, "openfga");
      expect(body.error.message).toContain("openfga");
      // Never past the list's time to live: then the directory says in words it cannot check.
      const listing = await eventually(async () => {
        const answer = await deployment.request(web, "GET", "/agents");
        expect(answer.status).toBe(503);
        return answer;
      }, LIST_TTL_MS + 5_000);
      expectWords((await listing.json()) as JsonBody);
      const refused = await deployment.tryRun(web, "while openfga is away");
      expect(refused.status).toBe(503);
      expectWords(refused.body);

      await server.restart();
      await deployment.ready(web);
      const after = await deployment.request(web, "GET", "/agents");
      expect(after.status).toBe(200);
      const id = await deployment.startRun(web, "after openfga is back");
      expect(await deployment.finished(web, [id])).toEqual(["succeeded"]);
      expectEachEndedOnce(await deployment.records([id]));
      expect(web.process.exit).toBeUndefined();
      expect(deployment.outputProblems()).toEqual([]);
    });
  },
);

interface SseEvent {
  seq: number;
  type: string;
  data: JsonBody;
}

describe("a serve killed (-9) while streaming a run's answer", { timeout: 600_000 }, () => {
  it("the other serve carries the stream on from where it broke off; the run ends once", async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const deployment = await FaultDeployment.start({
      postgres: "shared",
      env: { REDIS_URL: redis.url },
    });
    cleanups.push(() => deployment.close());
    const [first, second] = [
      await deployment.startPart("serve"),
      await deployment.startPart("serve"),
    ];
    await deployment.startPart("worker");
    const id = await deployment.startRun(first, "stream this to me");
    const events: SseEvent[] = [];
    // Killed mid-answer, with the stream open: it breaks off.
    const cut = await follow(deployment, first, id, events, () => {
      if (events.filter((event) => event.type === "message.delta").length === 3)
        first.process.signal("SIGKILL");
    });
    expect(cut).toBe("broken");
    await first.process.exited;
    // The browser reconnects (to the load balancer's other serve) with Last-Event-ID.
    expect(await follow(deployment, second, id, events)).toBe("ended");

    expect(events.map((event) => event.seq)).toEqual(events.map((_, i) => i + 1));
    const closing = events.filter(
      (event) => event.type === "run.status" && !["queued", "running"].includes(event.data.status),
    );
    expect(closing.map((event) => event.data.status)).toEqual(["succeeded"]);
    expectEachEndedOnce(await deployment.records([id]));
  });
});

/**
 * Follows a run's events on one web process (GET /runs/{id}/events), from the last one seen
 * as a browser's EventSource does (Last-Event-ID), until the run ends or the stream breaks
 * off; `onEvent` hears each event as it comes.
 */
async function follow(
  deployment: FaultDeployment,
  part: Part,
  runId: string,
  events: SseEvent[],
  onEvent: () => void = () => {},
): Promise<"ended" | "broken"> {
  const last = events.at(-1)?.seq;
  const abort = new AbortController();
  const response = await fetch(`${part.base}/api/v1/runs/${runId}/events`, {
    headers: {
      authorization: `Bearer ${deployment.apiKey}`,
      accept: "text/event-stream",
      ...(last ? { "last-event-id": String(last) } : {}),
    },
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body ?? []) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: ?(.*)$/m.exec(block)?.[1];
        if (id === undefined) continue;
        const event = {
          seq: Number(id),
          type: /^event: ?(.*)$/m.exec(block)?.[1] ?? "message",
          data: JSON.parse(/^data: ?(.*)$/m.exec(block)?.[1] ?? "{}") as JsonBody,
        };
        events.push(event);
        if (
          event.type === "run.status" &&
          ["succeeded", "failed", "cancelled"].includes(event.data.status)
        )
          return "ended";
        onEvent();
      }
    }
    return "broken";
  } catch {
    return "broken";
  } finally {
    abort.abort();
  }
}
