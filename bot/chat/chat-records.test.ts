import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../../app/db/index.js";
import { createTestDatabase, type TestDatabase } from "../../test/support/postgres.js";
import { ChatActions } from "./chat-actions.js";
import { ChatReplies } from "./chat-replies.js";
import { ChatDeliveries } from "./deliveries.js";

/** The records that make chat handling exactly-once, restartable and tamper-proof. */
describe("chat records on PostgreSQL", () => {
  let pg: TestDatabase;
  let db: Database;
  let runId: string;

  beforeAll(async () => {
    pg = await createTestDatabase("chat_records");
    db = await openDatabase({ url: pg.url, dataDir: "" });
    await migrateLatest(db);
    const [user] = await db.knex("users").insert({ email: "ada@example.com" }, ["id"]);
    const [agent] = await db.knex("agents").insert(
      {
        name: "a",
        title: "A",
        owner: "team:x",
        runtime_type: "demo",
        manifest: "{}",
        manifest_digest: "d",
      },
      ["id"],
    );
    const [session] = await db
      .knex("sessions")
      .insert(
        { agent_id: agent.id, user_id: user.id, surface: "slack", conversation_key: "T:C:1" },
        ["id"],
      );
    const [run] = await db
      .knex("runs")
      .insert({ session_id: session.id, agent_id: agent.id, user_id: user.id, input: "hi" }, [
        "id",
      ]);
    runId = run.id;
  });
  afterAll(async () => {
    await db.close();
    await pg.drop();
  });

  it("claims a delivery once, however many processes race for it, and forgets old claims", async () => {
    const deliveries = new ChatDeliveries(db.knex);
    const claims = await Promise.all(
      Array.from({ length: 5 }, () => deliveries.claim("slack", "T:C:1.0001")),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    await db
      .knex("chat_deliveries")
      .update({ received_at: db.knex.raw("now() - interval '8 days'") });
    expect(await deliveries.prune(7)).toBe(1);
    expect(await deliveries.claim("slack", "T:C:1.0001")).toBe(true);
  });

  it("finds an action only by its id and surface, uses it once, and forgets old ones", async () => {
    const actions = new ChatActions(db.knex);
    const id = await actions.create("slack", "run_agent", { agentName: "a" });
    expect(await actions.find("teams", id)).toBeUndefined();
    expect(await actions.find("slack", "not-an-id")).toBeUndefined();
    expect((await actions.find("slack", id))?.payload).toEqual({ agentName: "a" });
    expect(await actions.use(id)).toBe(true);
    expect(await actions.use(id)).toBe(false);
    await db.knex("chat_actions").update({ created_at: db.knex.raw("now() - interval '31 days'") });
    expect(await actions.prune(30)).toBeGreaterThan(0);
    expect(await actions.find("slack", id)).toBeUndefined();
  });

  it("hands an orphaned reply to one process, and not while its holder is alive", async () => {
    const first = new ChatReplies(db.knex, "web-1");
    const second = new ChatReplies(db.knex, "web-2");
    expect(await first.add("slack", runId, { channel: "C" })).toBe(true);
    expect(await second.add("slack", runId, { channel: "C" })).toBe(false);
    expect(await second.takeOrphaned("slack")).toEqual([]); // web-1 holds it
    await first.release(); // web-1 stops
    const [a, b] = await Promise.all([first.takeOrphaned("slack"), second.takeOrphaned("slack")]);
    expect([...a, ...b].map((reply) => reply.runId)).toEqual([runId]);
    const [winner, other] = a.length === 1 ? [first, second] : [second, first];
    await db
      .knex("chat_replies")
      .update({ lease_expires_at: db.knex.raw("now() - interval '1 second'") });
    expect(await other.takeOrphaned("slack")).toHaveLength(1); // the winner's hold lapsed
    // The process that held it before learns it lost it, and writes nothing any more.
    expect(await winner.renew([runId])).toEqual([]);
    expect(await other.renew([runId])).toEqual([runId]);
    expect(await winner.saveProgress(runId, { ts: "stale" })).toBe(false);
    expect(await other.saveProgress(runId, { ts: "1.2" })).toBe(true);
    expect(await winner.done(runId)).toBe(false);
    expect(await other.done(runId)).toBe(true);
    await db.knex("chat_replies").update({ lease_expires_at: null });
    expect(await first.takeOrphaned("slack")).toEqual([]); // done replies are not pending
    const [row] = await db.knex("chat_replies").where({ run_id: runId });
    expect(row.progress).toEqual({ ts: "1.2" });
  });

  it("holds a reply for CHAT_REPLY_HOLD_MS from each renewal, in one statement for all", async () => {
    const web = new ChatReplies(db.knex, "web-3", 2_000);
    await db.knex("chat_replies").del();
    expect(await web.add("teams", runId, { room: "r" })).toBe(true);
    const expiry = async () => {
      const [row] = await db
        .knex("chat_replies")
        .select(db.knex.raw("extract(epoch from lease_expires_at - now()) * 1000 as left_ms"));
      return Number(row.left_ms);
    };
    expect(await expiry()).toBeGreaterThan(1_000);
    expect(await expiry()).toBeLessThanOrEqual(2_000);
    await db.knex("chat_replies").update({ lease_expires_at: db.knex.raw("now()") });
    expect(await web.renew([runId, "00000000-0000-0000-0000-000000000000"])).toEqual([runId]);
    expect(await expiry()).toBeGreaterThan(1_000);
  });
});
