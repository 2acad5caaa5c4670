import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Database, migrateLatest, openDatabase } from "../app/db/index.js";
import { Budgets } from "../governance/index.js";
import { anthropicStream } from "../test/doubles/anthropic-wire.js";
import { chatCompletion, chatStream } from "../test/doubles/openai-wire.js";
import { json, sse, UpstreamDouble } from "../test/doubles/upstream-double.js";
import { createTestDatabase, type TestDatabase } from "../test/support/postgres.js";
import { issueProxyKey, type RunningProxy, revokeProxyKey } from "./index.js";
import { createIdentities, type TestIdentities } from "./testing/identities.js";
import { oneModel, startTestProxy } from "./testing/test-proxy.js";

interface LedgerRow {
  api_key_id: string;
  user_id: string;
  team_id: string;
  agent_id: string;
  run_id: string;
  session_id: string;
  model: string;
  source: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string;
  metadata: Record<string, unknown>;
}

describe.each(["pglite", "postgres"] as const)("virtual keys and spend on %s", (kind) => {
  let dataDir: string | undefined;
  let pg: TestDatabase | undefined;
  let db: Database;
  let openaiUpstream: UpstreamDouble;
  let anthropicUpstream: UpstreamDouble;
  let proxy: RunningProxy;
  let ids: TestIdentities;

  beforeAll(async () => {
    if (kind === "pglite") {
      dataDir = mkdtempSync(join(tmpdir(), "proxy-keys-"));
      db = await openDatabase({ dataDir });
    } else {
      pg = await createTestDatabase("proxy_keys");
      db = await openDatabase({ url: pg.url, dataDir: "" });
    }
    await migrateLatest(db);
    ids = await createIdentities(db.knex, "ada");
    openaiUpstream = await UpstreamDouble.start("openai");
    anthropicUpstream = await UpstreamDouble.start("anthropic");
    proxy = await startTestProxy(
      {
        model_list: [
          oneModel("gpt-4o", "openai/gpt-4o", `${openaiUpstream.url}/v1`),
          // $1 per input token and $2 per output token: budgets are easy to reason about.
          {
            ...oneModel("dear", "openai/my-model", `${openaiUpstream.url}/v1`),
            model_info: { input_cost_per_token: 1, output_cost_per_token: 2 },
          },
          oneModel("claude", "anthropic/claude-sonnet-4-20250514", anthropicUpstream.url),
        ],
      },
      { knex: db.knex },
    );
  });
  afterEach(() => {
    openaiUpstream.verify();
    anthropicUpstream.verify();
  });
  afterAll(async () => {
    await proxy?.close();
    await openaiUpstream?.close();
    await anthropicUpstream?.close();
    await db?.close();
    await pg?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const clientFor = (key: string) =>
    new OpenAI({ apiKey: key, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  const ledgerFor = async (apiKeyId: string): Promise<LedgerRow[]> => {
    await proxy.proxy.flushSpend();
    return db.knex("ledger").where({ api_key_id: apiKeyId }).orderBy("id");
  };

  it("writes a run key's spend to the ledger, attributed to key, user, team, agent, run and model", async () => {
    const { id, key } = await issueProxyKey(db.knex, { ...ids, name: "run key" });
    openaiUpstream.expect(
      "POST /v1/chat/completions",
      json(
        200,
        chatCompletion({
          model: "gpt-4o",
          content: "hi",
          promptTokens: 1000,
          completionTokens: 100,
        }),
      ),
    );
    await clientFor(key).chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "x" }],
    });
    anthropicUpstream.expect(
      "POST /v1/messages",
      sse(
        anthropicStream({
          model: "claude-sonnet-4-20250514",
          pieces: ["a"],
          inputTokens: 1000,
          outputTokens: 100,
        }),
      ),
    );
    const stream = await clientFor(key).chat.completions.create({
      model: "claude",
      messages: [],
      stream: true,
    });
    for await (const _ of stream) {
      // drain
    }
    const rows = await ledgerFor(id);
    expect(rows).toHaveLength(2);
    const [openaiRow, anthropicRow] = rows as [LedgerRow, LedgerRow];
    expect(openaiRow).toMatchObject({
      source: "proxy",
      api_key_id: id,
      user_id: ids.userId,
      team_id: ids.teamId,
      agent_id: ids.agentId,
      run_id: ids.runId,
      session_id: ids.sessionId,
      model: "gpt-4o",
      input_tokens: 1000,
      output_tokens: 100,
    });
    // gpt-4o at $2.50 / $10 per million tokens, from the price package.
    expect(Number(openaiRow.cost_usd)).toBeCloseTo(0.0035, 8);
    expect(anthropicRow).toMatchObject({
      model: "claude",
      input_tokens: 1000,
      output_tokens: 100,
      run_id: ids.runId,
    });
    expect(Number(anthropicRow.cost_usd)).toBeGreaterThan(0);
    expect(anthropicRow.metadata).toMatchObject({
      provider: "anthropic",
      upstream_model: "claude-sonnet-4-20250514",
    });
  });

  it("adds up a key's calls to one model between two ledger writes into one row", async () => {
    // A window that only an explicit flush ends, so the five calls surely share it.
    const windowed = await startTestProxy(
      { model_list: [oneModel("gpt-4o", "openai/gpt-4o", `${openaiUpstream.url}/v1`)] },
      { knex: db.knex, ledgerFlushIntervalMs: 60_000 },
    );
    try {
      const { id, key } = await issueProxyKey(db.knex, { ...ids, name: "busy key" });
      const client = new OpenAI({ apiKey: key, baseURL: `${windowed.url}/v1`, maxRetries: 0 });
      for (let i = 1; i <= 5; i++) {
        openaiUpstream.expect(
          "POST /v1/chat/completions",
          json(
            200,
            chatCompletion({ model: "gpt-4o", promptTokens: 100 * i, completionTokens: i }),
          ),
        );
      }
      await Promise.all(
        [1, 2, 3, 4, 5].map(() =>
          client.chat.completions.create({ model: "gpt-4o", messages: [] }),
        ),
      );
      await windowed.proxy.flushSpend();
      const rows: LedgerRow[] = await db.knex("ledger").where({ api_key_id: id });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        run_id: ids.runId,
        model: "gpt-4o",
        input_tokens: 1500,
        output_tokens: 15,
      });
      expect(rows[0]?.metadata).toMatchObject({ calls: 5, provider: "openai" });
      // gpt-4o at $2.50 / $10 per million tokens.
      expect(Number(rows[0]?.cost_usd)).toBeCloseTo((1500 * 2.5 + 15 * 10) / 1e6, 8);

      // The next window is a row of its own.
      openaiUpstream.expect(
        "POST /v1/chat/completions",
        json(200, chatCompletion({ model: "gpt-4o", promptTokens: 7 })),
      );
      await client.chat.completions.create({ model: "gpt-4o", messages: [] });
      await windowed.proxy.flushSpend();
      const after: LedgerRow[] = await db.knex("ledger").where({ api_key_id: id }).orderBy("id");
      expect(after.map((r) => [r.input_tokens, r.metadata.calls])).toEqual([
        [1500, 5],
        [7, 1],
      ]);
    } finally {
      await windowed.close();
    }
  });

  it("answers while the ledger cannot be written, and writes the spend once it can", async () => {
    const { id, key } = await issueProxyKey(db.knex, { ...ids, name: "ledger down" });
    // The key's first use reads its spend from the ledger; after that it is held in memory.
    for await (const _ of clientFor(key).models.list()) {
      // drain
    }
    await db.knex.raw("alter table ledger rename to ledger_away");
    try {
      openaiUpstream.expect(
        "POST /v1/chat/completions",
        json(200, chatCompletion({ model: "gpt-4o", content: "still here", promptTokens: 7 })),
      );
      const completion = await clientFor(key).chat.completions.create({
        model: "gpt-4o",
        messages: [],
      });
      expect(completion.choices[0]?.message.content).toBe("still here");
      await proxy.proxy.flushSpend();
    } finally {
      await db.knex.raw("alter table ledger_away rename to ledger");
    }
    const rows = await ledgerFor(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.input_tokens).toBe(7);
  });

  it("refuses a key over its budget without calling the upstream", async () => {
    const { id, key } = await issueProxyKey(db.knex, { userId: ids.userId, budgetUsd: 10 });
    openaiUpstream.expect(
      "POST /v1/chat/completions",
      json(
        200,
        chatCompletion({
          model: "my-model",
          content: "pricey",
          promptTokens: 8,
          completionTokens: 1,
        }),
      ),
    );
    await clientFor(key).chat.completions.create({ model: "dear", messages: [] });
    const error = await clientFor(key)
      .chat.completions.create({ model: "dear", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.error).toMatchObject({ type: "budget_exceeded", code: "budget_exceeded" });
    expect(error.message).toMatch(/Budget exceeded/);
    const [row] = await ledgerFor(id);
    expect(Number(row?.cost_usd)).toBe(10);
  });

  it("knows a key's earlier spend from the ledger when it first sees the key", async () => {
    const { id, key } = await issueProxyKey(db.knex, { userId: ids.userId, budgetUsd: 5 });
    await db
      .knex("ledger")
      .insert({ source: "proxy", api_key_id: id, cost_usd: "5", dedupe_key: `earlier-${id}` });
    const error = await clientFor(key)
      .chat.completions.create({ model: "gpt-4o", messages: [] })
      .catch((e) => e);
    expect(error.error?.code).toBe("budget_exceeded");
  });

  it("refuses the calls of a run whose agent's hard budget is spent, without calling the upstream", async () => {
    const other = await createIdentities(db.knex, "budgeted");
    const { id, key } = await issueProxyKey(db.knex, {
      userId: other.userId,
      agentId: other.agentId,
      runId: other.runId,
    });
    const { budget } = await new Budgets(db.knex, undefined as never).set(
      { kind: "system", name: "test" },
      { scope: "agent:agent-budgeted", period: "month", amount_usd: 3, mode: "hard" },
    );
    try {
      await db.knex("ledger").insert({
        source: "runtime",
        agent_id: other.agentId,
        cost_usd: "3",
        dedupe_key: `agent-spend-${id}`,
      });
      const error = await clientFor(key)
        .chat.completions.create({ model: "gpt-4o", messages: [] })
        .catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.error?.code).toBe("budget_exceeded");
      expect(error.message).toContain(
        "The budget for agent:agent-budgeted ($3.00 this month) is spent: $3.00.",
      );
    } finally {
      await db.knex("budgets").where({ id: budget.id }).delete();
    }
  });

  it("answers 429 past the key's requests per minute, without calling the upstream", async () => {
    const { key } = await issueProxyKey(db.knex, { userId: ids.userId, rpmLimit: 1 });
    openaiUpstream.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o", content: "1" })),
    );
    await clientFor(key).chat.completions.create({ model: "gpt-4o", messages: [] });
    const error = await clientFor(key)
      .chat.completions.create({ model: "gpt-4o", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("answers 429 past the key's tokens per minute", async () => {
    const { key } = await issueProxyKey(db.knex, { userId: ids.userId, tpmLimit: 100 });
    openaiUpstream.expect(
      "POST /v1/chat/completions",
      json(
        200,
        chatCompletion({ model: "gpt-4o", content: "1", promptTokens: 90, completionTokens: 20 }),
      ),
    );
    await clientFor(key).chat.completions.create({ model: "gpt-4o", messages: [] });
    const error = await clientFor(key)
      .chat.completions.create({ model: "gpt-4o", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.message).toMatch(/tokens per minute/);
  });

  it("refuses a model the key does not allow", async () => {
    const { key } = await issueProxyKey(db.knex, { userId: ids.userId, allowedModels: ["claude"] });
    const error = await clientFor(key)
      .chat.completions.create({ model: "gpt-4o", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const listed = [];
    for await (const model of clientFor(key).models.list()) listed.push(model.id);
    expect(listed).toEqual(["claude"]);
  });

  it("refuses a revoked key: at once in this process, and after a refresh in any", async () => {
    const first = await issueProxyKey(db.knex, { userId: ids.userId });
    openaiUpstream.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o", content: "1" })),
    );
    await clientFor(first.key).chat.completions.create({ model: "gpt-4o", messages: [] });
    await revokeProxyKey(db.knex, first.id);
    proxy.proxy.invalidateKey(first.id);
    const error = await clientFor(first.key)
      .chat.completions.create({ model: "gpt-4o", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error.message).toMatch(/revoked/);

    // Revoked by another process: this one learns of it on its next refresh of cached keys.
    const second = await issueProxyKey(db.knex, { userId: ids.userId });
    openaiUpstream.expect(
      "POST /v1/chat/completions",
      json(200, chatCompletion({ model: "gpt-4o", content: "1" })),
    );
    await clientFor(second.key).chat.completions.create({ model: "gpt-4o", messages: [] });
    await revokeProxyKey(db.knex, second.id);
    let refused: unknown;
    for (let i = 0; i < 200 && !refused; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const probe = await request(second.key);
      if (probe === 401) refused = probe;
    }
    expect(refused).toBe(401);
  });

  it("refuses an expired key", async () => {
    const { key } = await issueProxyKey(db.knex, {
      userId: ids.userId,
      expiresAt: new Date(Date.now() - 1000),
    });
    const error = await clientFor(key)
      .chat.completions.create({ model: "gpt-4o", messages: [] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error.message).toMatch(/expired/);
  });

  it("on shutdown lets a stream in flight finish, then writes its spend", async () => {
    const { id, key } = await issueProxyKey(db.knex, { ...ids, name: "shutdown" });
    const second = await startTestProxy(
      { model_list: [oneModel("gpt-4o", "openai/gpt-4o", `${openaiUpstream.url}/v1`)] },
      { knex: db.knex },
    );
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    openaiUpstream.expect(
      "POST /v1/chat/completions",
      sse(
        chatStream({ model: "gpt-4o", pieces: ["before", "after"], includeUsage: true }),
        async (index) => {
          if (index === 2) await released;
        },
      ),
    );
    const client = new OpenAI({ apiKey: key, baseURL: `${second.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [],
      stream: true,
    });
    let closing: Promise<void> | undefined;
    const pieces: string[] = [];
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta.content;
      if (text) pieces.push(text);
      if (text === "before") {
        closing = second.close();
        release();
      }
    }
    await closing;
    expect(pieces).toEqual(["before", "after"]);
    // close() flushed the ledger: the row is there without another flush.
    expect(await db.knex("ledger").where({ api_key_id: id })).toHaveLength(1);
  });

  /** GET /v1/models with a key: its status, without touching the upstream. */
  async function request(key: string): Promise<number> {
    const response = await fetch(`${proxy.url}/v1/models`, {
      headers: { authorization: `Bearer ${key}` },
    });
    await response.arrayBuffer();
    return response.status;
  }
});
