import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/db/index.js";
import { AccessPolicy, EmbeddedAuthorizer, loadPolicyModel } from "../../authz/index.js";
import { createDirectoryServices } from "../../directory/index.js";
import { seedSpendLedger } from "../../test/support/spend-ledger.js";
import { registerSpendMetrics } from "../index.js";
import { BACKENDS, type TestBackend } from "../testing/test-databases.js";

/** /metrics' spend and budget gauges, read from the spend fixture's ledger in November. */
describe.each(BACKENDS)("spend metrics on %s", (_name, makeBackend) => {
  let backend: TestBackend;
  let db: Database;

  beforeAll(async () => {
    backend = makeBackend();
    db = await backend.open();
    const authorizer = await EmbeddedAuthorizer.open({
      knex: db.knex,
      modelDsl: loadPolicyModel(),
    });
    const access = new AccessPolicy(authorizer, 5_000);
    const services = createDirectoryServices({ knex: db.knex, authorizer, access });
    await seedSpendLedger({ knex: db.knex, authorizer, access, services });
    await authorizer.close();
  }, 120_000);
  afterAll(async () => {
    await backend.close();
  });

  it("reports this month's spend by team, runtime and model, and each budget's use", async () => {
    const registry = new Registry();
    let reads = 0;
    registerSpendMetrics(registry, {
      knex: db.knex,
      now: () => new Date("2026-11-20T12:00:00Z"),
      maxModels: 2,
      budgetUse: async () => {
        reads += 1;
        return [{ scope: "team:support", period: "month", limitUsd: 10, spentUsd: 3.875 }];
      },
    });
    const text = await registry.metrics();
    for (const line of [
      'switchboard_spend_month_usd{team="research"} 4.5',
      'switchboard_spend_month_usd{team="support"} 3.875',
      'switchboard_spend_month_usd{team="none"} 0.4375',
      'switchboard_spend_month_by_runtime_usd{runtime="proxy"} 1.125',
      'switchboard_spend_month_by_runtime_usd{runtime="a2a"} 3.375',
      'switchboard_spend_month_by_model_usd{model="gpt-4o"} 5.125',
      'switchboard_spend_month_by_model_usd{model="claude-sonnet"} 3.25',
      // claude-haiku, gpt-4o-mini and the model-less demo run: past the top two.
      'switchboard_spend_month_by_model_usd{model="other"} 0.4375',
      'switchboard_budget_limit_usd{scope="team:support",period="month"} 10',
      'switchboard_budget_spent_usd{scope="team:support",period="month"} 3.875',
      'switchboard_budget_used_ratio{scope="team:support",period="month"} 0.3875',
    ]) {
      expect(text).toContain(line);
    }
    // October's and December's rows are not this month's.
    expect(text).not.toMatch(/ 8$|16$/m);
    // A second scrape within the minute reads nothing again.
    await registry.metrics();
    expect(reads).toBe(1);
  });
});
