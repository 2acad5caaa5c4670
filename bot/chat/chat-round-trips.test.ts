import { AsyncLocalStorage } from "node:async_hooks";
import { beforeAll, describe, expect, it } from "vitest";
import { type ChatFixture, useChatFixture } from "./testing/chat-fixture.js";

/**
 * Under a burst, mentions take their turn TURNS_AT_ONCE at a time, and each turn waits on
 * its database round trips one after another: the last of 200 mentions waits for all of
 * them (bench/README.md, Slack). This counts the statements one mention sends, from its
 * delivery's claim to its reply's record, so a check that adds round trips is seen here.
 */
const fixture = useChatFixture();
let chat: ChatFixture;
beforeAll(() => {
  chat = fixture();
});

/**
 * At most this many statements for a mention that starts a run in a new thread (the
 * claim, the agent's name, whether the person uses it, the start's one read, the agent at
 * admission, the run's transaction of four, the reply's record). It was 19 before issue 21.
 */
const MOST_PER_MENTION = 10;

describe("a mention's round trips to the database", { timeout: 60_000 }, () => {
  it(`starts a run in at most ${MOST_PER_MENTION} statements, with no budgets transaction when no budget applies`, async () => {
    // The engine stopped: only the mention's own statements run (the runs stay queued).
    await chat.engine.stop();
    const mention = new AsyncLocalStorage<{ sql: string[]; open: boolean }>();
    chat.db.knex.on("query", (query: { sql: string }) => {
      const store = mention.getStore();
      if (store?.open) store.sql.push(query.sql);
    });
    for (let i = 0; i < 3; i++) {
      const store = { sql: [] as string[], open: true };
      await mention.run(store, async () => {
        await chat.flow.handle(chat.message("carol", `trips-${i}`, `vpn-helper question ${i}`));
        // What the reply does after this is not the turn's: it runs beside the next turns.
        store.open = false;
      });
      const listed = store.sql.map((sql) => sql.slice(0, 100)).join("\n");
      expect(store.sql.length, listed).toBeLessThanOrEqual(MOST_PER_MENTION);
      // One transaction, the run's: no budget applies, so admission locks nothing.
      expect(
        store.sql.filter((sql) => /^BEGIN/.test(sql)),
        listed,
      ).toHaveLength(1);
      expect(
        store.sql.filter((sql) => /for update/.test(sql)),
        listed,
      ).toEqual([]);
      expect(store.sql.filter((sql) => /^insert into "chat_replies"/.test(sql))).toHaveLength(1);
    }
  });
});
