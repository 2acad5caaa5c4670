import type { Knex } from "knex";
import type { LedgerEntry } from "./ledger-entry.js";
import { insertLedgerEntries } from "./ledger-insert.js";
import { type SpendScope, whereInScope } from "./scope.js";

/**
 * The one owner of the ledger table: every cost is booked here and every spend figure is
 * read here (the runs engine, the proxy, Slack's App Home, the site, budgets, and the spend
 * views in governance/spend). Queries take a knex or a transaction, so a booking commits
 * with the change it belongs to (a run's closing transaction).
 *
 * A run's cost is everything booked to it: what its runtime reported and the model calls
 * made with its proxy keys. `runs.cost_usd` holds that sum for readers of runs; it is set
 * here whenever rows for a run land, so late proxy spend shows on the run too.
 */
export class Ledger {
  constructor(private readonly knex: Knex) {}

  /** Books entries (an entry whose dedupe key is there already counts once) and refreshes the cost of the runs they name. */
  async book(entries: readonly LedgerEntry[], trx: Knex = this.knex): Promise<void> {
    await bookLedgerEntries(trx, entries);
  }

  /** Everything booked to a run so far (or only what one source booked). */
  async runCost(
    runId: string,
    options: { source?: LedgerEntry["source"] } = {},
    trx: Knex = this.knex,
  ): Promise<number> {
    const sql = trx("ledger").where({ run_id: runId }).sum({ total: "cost_usd" });
    if (options.source) sql.where({ source: options.source });
    const row = await sql.first();
    return Number(row?.total ?? 0);
  }

  /** Spend for a scope in [from, to) (either bound open when unset). */
  async spendFor(
    query: { scope: SpendScope; from?: Date | undefined; to?: Date | undefined },
    trx: Knex = this.knex,
  ): Promise<number> {
    const row = await spendQuery(trx, query).first();
    return Number(row?.total ?? 0);
  }

  /** An agent's spend per UTC day (`YYYY-MM-DD`) since a moment. */
  async agentSpendByDay(agentId: string, since: Date): Promise<Map<string, number>> {
    const rows = (await this.knex("ledger")
      .select({
        day: this.knex.raw(`to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD')`),
      })
      .sum({ cost: "cost_usd" })
      .where("agent_id", agentId)
      .andWhere("occurred_at", ">=", since)
      .groupByRaw("1")) as { day: string; cost: string | null }[];
    return new Map(rows.map((r) => [String(r.day), Number(r.cost ?? 0)]));
  }

  /** An agent's tokens and spend by runtime and model since a moment, most spent first. */
  async agentSpendByRuntimeModel(
    agentId: string,
    since: Date,
  ): Promise<
    {
      runtime: string | null;
      model: string | null;
      inputTokens: number;
      outputTokens: number;
      costUsd: number;
    }[]
  > {
    const rows = (await this.knex("ledger")
      .select("runtime", "model")
      .sum({ input: "input_tokens", output: "output_tokens", cost: "cost_usd" })
      .where("agent_id", agentId)
      .andWhere("occurred_at", ">=", since)
      .groupBy("runtime", "model")
      .orderByRaw("sum(cost_usd) desc, sum(input_tokens + output_tokens) desc")) as Record<
      string,
      unknown
    >[];
    return rows.map((r) => ({
      runtime: (r.runtime as string | null) ?? null,
      model: (r.model as string | null) ?? null,
      inputTokens: Number(r.input ?? 0),
      outputTokens: Number(r.output ?? 0),
      costUsd: Number(r.cost ?? 0),
    }));
  }

  /** A person's spend since a moment (all their runs and proxy calls), for App Home and the site. */
  async userSpendSince(userId: string, since: Date): Promise<number> {
    const row = await this.knex("ledger")
      .where("user_id", userId)
      .andWhere("occurred_at", ">=", since)
      .sum({ total: "cost_usd" })
      .first();
    return Number(row?.total ?? 0);
  }
}

/**
 * The spend of a scope in [from, to) as one query (`total`), to run alone or as a subquery
 * (budgets read a budget's spend, reservations and raises in one round trip).
 */
export function spendQuery(
  knex: Knex,
  query: { scope: SpendScope; from?: Date | undefined; to?: Date | undefined },
): Knex.QueryBuilder {
  const sql = knex("ledger").select(knex.raw("coalesce(sum(cost_usd), 0) as total"));
  if (query.from) sql.where("occurred_at", ">=", query.from);
  if (query.to) sql.where("occurred_at", "<", query.to);
  whereInScope(knex, sql, query.scope);
  return sql;
}

/**
 * Inserts the entries, then sets `runs.cost_usd` of every run they name to its ledger sum:
 * the run's one figure, whichever of the runtime or the proxy booked last.
 *
 * The runs named are locked first, in id order, and only then are the ledger rows (and so
 * the running totals the insert's trigger adds to) written. A run's close holds its run row
 * before it books; the proxy's batch for the same run books rows that add to the same totals
 * (one agent's day) and then sets the run's cost. Taking the run rows first in both keeps
 * one order, run rows then totals, so the two queue instead of deadlocking.
 */
export async function bookLedgerEntries(
  knex: Knex,
  entries: readonly LedgerEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const runIds = [...new Set(entries.map((e) => e.runId).filter((id): id is string => !!id))];
  const runs = `{${runIds.sort().join(",")}}`;
  if (runIds.length === 0) {
    await insertLedgerEntries(knex, entries);
    return;
  }
  const book = async (trx: Knex) => {
    await trx.raw("select 1 from runs where id = any(?::uuid[]) order by id for update", [runs]);
    await insertLedgerEntries(trx, entries);
    await trx.raw(
      `update runs set cost_usd = booked.total
         from (select run_id, sum(cost_usd) as total from ledger
                where run_id = any(?::uuid[]) group by run_id) as booked
        where runs.id = booked.run_id and runs.cost_usd is distinct from booked.total`,
      [runs],
    );
  };
  // The lock lasts until commit: alone, the three statements need a transaction of their own.
  if (knex.isTransaction) await book(knex);
  else await knex.transaction(book);
}
