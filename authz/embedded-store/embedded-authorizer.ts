import type { Knex } from "knex";
import type { OutageLogger } from "../../core/index.js";
import type { Authorizer, BatchCheck } from "../authorizer.js";
import { compileModel, ModelEvaluator, TupleIndex } from "../embedded/index.js";
import type {
  CheckRequest,
  ListObjectsRequest,
  ListUsersRequest,
  ReadFilter,
  TupleKey,
} from "../types.js";
import { TupleChangeFeed, type TupleChanges } from "./change-feed.js";
import { loadAllTuples, writeTuples } from "./tuple-table.js";

/** Distinct list-objects answers kept between writes (a person's catalog, their agents…). */
const LIST_CACHE_ENTRIES = 500;

export interface EmbeddedOptions {
  knex: Knex;
  modelDsl: string;
  /** Set on PostgreSQL so processes sharing the database see each other's writes. */
  databaseUrl?: string | undefined;
  /** Where the change feed says it lost its connection and got it back. */
  logger?: OutageLogger | undefined;
}

/**
 * The Authorizer that needs no OpenFGA server: the same model, evaluated in-process over an
 * in-memory copy of the tuples, which persist in our database. Reads never touch the
 * database (a check is a few map lookups); writes go to the database first, then to memory.
 */
export class EmbeddedAuthorizer implements Authorizer {
  readonly backend = "embedded";
  private readonly index = new TupleIndex();
  private readonly evaluator: ModelEvaluator;
  private feed: TupleChangeFeed | undefined;
  /**
   * List-objects answers since the last change of tuples. Listing what a person may view
   * checks every candidate (2,000 of 10,000 agents: the bulk of a catalog page with facets in
   * the directory bench), and the catalog asks again on every keystroke of a search. Any
   * write, from this process or through the change feed, empties it, so it is never stale.
   */
  private readonly listCache = new Map<string, string[]>();
  /** Changes that arrive while a reload reads the table, applied on top of what it read. */
  private heldDuringReload: TupleChanges[] | undefined;

  private constructor(
    private readonly knex: Knex,
    modelDsl: string,
  ) {
    this.evaluator = new ModelEvaluator(compileModel(modelDsl), this.index);
  }

  static async open(options: EmbeddedOptions): Promise<EmbeddedAuthorizer> {
    const authorizer = new EmbeddedAuthorizer(options.knex, options.modelDsl);
    if (options.databaseUrl) {
      // Listen before loading, so no change committed in between is missed.
      authorizer.feed = new TupleChangeFeed({
        databaseUrl: options.databaseUrl,
        onChanges: (changes) => authorizer.apply(changes),
        onResync: () => authorizer.reload(),
        logger: options.logger,
      });
      await authorizer.feed.start();
    }
    await authorizer.reload();
    return authorizer;
  }

  async check(request: CheckRequest): Promise<boolean> {
    return this.evaluator.check(request);
  }

  async batchCheck(request: BatchCheck): Promise<boolean[]> {
    return this.evaluator.batchCheck(request);
  }

  async listObjects(request: ListObjectsRequest): Promise<string[]> {
    // Contextual tuples and conditions' context make an answer one-off: not cached.
    if (request.contextualTuples?.length || request.context) {
      return this.evaluator.listObjects(request);
    }
    const key = `${request.user}\n${request.relation}\n${request.type}`;
    let objects = this.listCache.get(key);
    if (objects) {
      this.listCache.delete(key); // most recently used last
    } else {
      objects = this.evaluator.listObjects(request);
      if (this.listCache.size >= LIST_CACHE_ENTRIES) {
        this.listCache.delete(this.listCache.keys().next().value as string);
      }
    }
    this.listCache.set(key, objects);
    return [...objects];
  }

  async listUsers(request: ListUsersRequest): Promise<string[]> {
    return this.evaluator.listUsers(request);
  }

  async write(writes: TupleKey[], deletes: TupleKey[] = []): Promise<void> {
    if (writes.length === 0 && deletes.length === 0) return;
    // Refuse the whole request before anything is stored, as OpenFGA does.
    for (const tuple of writes) this.evaluator.validateTupleForWrite(tuple);
    const changes = await this.knex.transaction(async (trx) => {
      const changed = await writeTuples(trx, writes, deletes);
      await this.feed?.publish(trx, changed);
      return changed;
    });
    this.apply(changes);
  }

  async read(filter: ReadFilter = {}): Promise<TupleKey[]> {
    return this.index.read(filter);
  }

  /** Also fails while the change feed is reconnecting: answers may miss other processes' writes. */
  async ping(): Promise<void> {
    const feedDown = this.feed?.failure;
    if (feedDown) throw new Error(`change feed is reconnecting (${feedDown})`);
    await this.knex.raw("select 1");
  }

  async close(): Promise<void> {
    await this.feed?.close();
  }

  private apply(changes: TupleChanges): void {
    if (this.heldDuringReload) {
      this.heldDuringReload.push(changes);
      return;
    }
    if (changes.deleted.length + changes.written.length > 0) this.listCache.clear();
    for (const tuple of changes.deleted) this.index.remove(tuple);
    for (const tuple of changes.written) this.index.add(tuple);
  }

  /**
   * Reads every tuple again. Changes that arrive meanwhile may be newer than what the read
   * sees, so they are held and applied on top, in order (applying one the read already saw
   * changes nothing).
   */
  private async reload(): Promise<void> {
    this.heldDuringReload = [];
    try {
      const tuples = await loadAllTuples(this.knex);
      this.listCache.clear();
      this.index.clear();
      for (const tuple of tuples) this.index.add(tuple);
    } finally {
      const held = this.heldDuringReload;
      this.heldDuringReload = undefined;
      for (const changes of held) this.apply(changes);
    }
  }
}
