import type { Knex } from "knex";
import type { Logger } from "pino";
import { OutageLog } from "../../core/index.js";
import {
  BudgetAdmission,
  type ExhaustedBudgets,
  exhaustedFor,
  spendByApiKey,
} from "../../governance/index.js";
import { ProxyError } from "../errors.js";
import {
  type ApiKeyRow,
  hashKey,
  KEY_COLUMNS,
  masterKey,
  toVirtualKey,
  type VirtualKey,
} from "./virtual-keys.js";

export interface KeyCacheOptions {
  knex: Knex | undefined;
  logger: Logger;
  masterKey: string | undefined;
  /** How often cached keys are re-read (revocations, limit changes, other processes' spend). */
  refreshIntervalMs?: number;
  /** How long an unknown secret is remembered as unknown. */
  negativeTtlMs?: number;
}

/**
 * The keys whose ledger spend is worth reading: those with a budget, the only thing spend
 * is checked against. Summing a key's ledger rows costs the database time in proportion to
 * its history (a busy team key has millions), on every refresh; a key without a budget
 * counts its spend from this process alone until it is given one.
 */
const budgeted = (rows: ApiKeyRow[]) => rows.filter((r) => r.budget_usd !== null).map((r) => r.id);

interface Miss {
  until: number;
}

/**
 * Virtual keys by the hash of their secret, held in memory: the first request with a key
 * reads it (and its spend) from the database, later ones do not touch the database. A timer
 * re-reads every cached key in one query, so a revocation, a changed limit or spend made by
 * another proxy process takes effect within one refresh interval; `invalidate` drops a key
 * at once in this process.
 */
export class KeyCache {
  private readonly keys = new Map<string, VirtualKey>();
  private readonly misses = new Map<string, Miss>();
  private readonly loading = new Map<string, Promise<VirtualKey | null>>();
  private readonly used = new Set<string>();
  private readonly master: { hash: string; key: VirtualKey } | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly negativeTtlMs: number;
  /** Reads and refreshes failing while the database is away: logged once, not per request. */
  private readonly outages: OutageLog;
  /** Budgets spent to their limit, as of the last refresh: their keys' calls are refused. */
  private exhausted: ExhaustedBudgets | undefined;

  constructor(private readonly options: KeyCacheOptions) {
    this.outages = new OutageLog(options.logger, "proxy key store");
    this.negativeTtlMs = options.negativeTtlMs ?? 10_000;
    if (options.masterKey) this.master = { hash: hashKey(options.masterKey), key: masterKey() };
    if (options.knex) {
      this.timer = setInterval(() => void this.refresh(), options.refreshIntervalMs ?? 5_000);
      this.timer.unref();
    }
  }

  /** The key for a secret, or null; synchronous when cached (the common case). */
  resolve(secret: string): VirtualKey | null | Promise<VirtualKey | null> {
    // Hashed on every call (about a microsecond) rather than remembered by secret: a map
    // of raw secrets would keep every client's key in this process's memory.
    const hash = hashKey(secret);
    if (this.master && hash === this.master.hash) return this.master.key;
    const cached = this.keys.get(hash);
    if (cached) {
      if (cached.id) this.used.add(cached.id);
      return cached;
    }
    const miss = this.misses.get(hash);
    if (miss && miss.until > Date.now()) return null;
    if (!this.options.knex) return null;
    let pending = this.loading.get(hash);
    if (!pending) {
      pending = this.load(this.options.knex, hash).finally(() => this.loading.delete(hash));
      this.loading.set(hash, pending);
    }
    return pending;
  }

  /** Drops a key from this process's cache; the next request re-reads it. */
  invalidate(id: string): void {
    for (const [hash, key] of this.keys) if (key.id === id) this.keys.delete(hash);
  }

  /** Adds spend made through this process, so budgets hold between refreshes. */
  addSpend(key: VirtualKey, costUsd: number): void {
    key.spentUsd += costUsd;
  }

  private async load(knex: Knex, hash: string): Promise<VirtualKey | null> {
    try {
      const key = await this.read(knex, hash);
      this.outages.restored();
      return key;
    } catch (error) {
      this.outages.failed(error, { doing: "reading a key" });
      throw new ProxyError(
        "key_store_unavailable",
        "The API key cannot be checked right now; try again shortly.",
        {
          cause: error,
        },
      );
    }
  }

  private async read(knex: Knex, hash: string): Promise<VirtualKey | null> {
    const row = (await knex("api_keys")
      .select(KEY_COLUMNS)
      .where({ key_hash: hash, kind: "proxy" })
      .first()) as ApiKeyRow | undefined;
    if (!row) {
      this.misses.set(hash, { until: Date.now() + this.negativeTtlMs });
      return null;
    }
    const spend = await spendByApiKey(knex, budgeted([row]));
    // Read afresh for a key first seen (a new run's): a budget spent a moment ago holds at once.
    this.exhausted = await new BudgetAdmission(knex).exhausted();
    const key = toVirtualKey(row, spend.get(row.id) ?? 0);
    key.budgetBlocked = exhaustedFor(this.exhausted, key);
    this.keys.set(hash, key);
    this.used.add(row.id);
    return key;
  }

  /** Re-reads every cached key and its spend; writes last_used_at for keys used since. */
  async refresh(): Promise<void> {
    const knex = this.options.knex;
    if (!knex || this.keys.size === 0) return;
    try {
      const byId = new Map<string, VirtualKey>();
      for (const key of this.keys.values()) if (key.id) byId.set(key.id, key);
      const ids = [...byId.keys()];
      const rows = (await knex("api_keys").select(KEY_COLUMNS).whereIn("id", ids)) as ApiKeyRow[];
      const spend = await spendByApiKey(knex, budgeted(rows));
      const exhausted = await new BudgetAdmission(knex).exhausted();
      this.exhausted = exhausted;
      for (const row of rows) {
        const key = byId.get(row.id);
        if (!key) continue;
        // The ledger lags this process's own spend by one flush: never move spend backwards.
        Object.assign(key, toVirtualKey(row, Math.max(key.spentUsd, spend.get(row.id) ?? 0)));
        key.budgetBlocked = exhaustedFor(exhausted, key);
      }
      const used = [...this.used];
      this.used.clear();
      if (used.length > 0) {
        await knex("api_keys")
          .whereIn("id", used)
          .update({ last_used_at: knex.fn.now() })
          .catch((error) => {
            for (const id of used) this.used.add(id); // written at the next refresh
            throw error;
          });
      }
      this.outages.restored();
    } catch (error) {
      // Cached keys keep answering meanwhile, as of their last refresh.
      this.outages.failed(error, { doing: "refreshing cached keys" });
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
