import {
  ClientWriteRequestOnDuplicateWrites,
  ClientWriteRequestOnMissingDeletes,
  ConsistencyPreference,
  CredentialsMethod,
  OpenFgaClient,
} from "@openfga/sdk";
import type { Authorizer, BatchCheck, ReadOptions } from "../authorizer.js";
import { AuthzError } from "../embedded/index.js";
import type {
  CheckRequest,
  ListObjectsRequest,
  ListUsersRequest,
  ReadFilter,
  TupleKey,
} from "../types.js";
import { StoreChangeWatch } from "./change-watch.js";
import { translateOpenFgaError } from "./errors.js";
import { ListObjectsCache } from "./list-cache.js";
import { ensureModel, ensureStore } from "./store-setup.js";
import { listedUser, listUsersBody, nonEmpty } from "./wire.js";

export interface OpenFgaOptions {
  apiUrl: string;
  /** Unset: find the store named `storeName`, or create it. */
  storeId?: string | undefined;
  storeName?: string;
  apiToken?: string | undefined;
  /** The policy in OpenFGA's DSL; written to the store when the stored model differs. */
  modelDsl: string;
  /**
   * How long a list-objects answer is kept (0: not kept), and for how long after this
   * process writes tuples it asks past the server's caches. See list-cache.ts.
   */
  listCacheTtlMs?: number | undefined;
  /** How often the changelog is read for writes made elsewhere, while answers are kept. */
  changesEveryMs?: number | undefined;
}

export const DEFAULT_LIST_CACHE_TTL_MS = 10_000;
const DEFAULT_CHANGES_EVERY_MS = 1_000;

// OpenFGA accepts at most this many tuples in one write by default.
const WRITE_CHUNK = 100;

/**
 * The Authorizer backed by an OpenFGA server, pinned to the model id it found or wrote.
 *
 * Lists come from StreamedListObjects, which has no cap on results (ListObjects stops at
 * the server's `--listObjects-max-results`, 1,000 by default), and are kept per question for
 * `listCacheTtlMs` (see list-cache.ts): the directory lists what a person may view on every
 * page. Whatever this process writes empties that cache, and for `listCacheTtlMs` afterwards
 * (10 s at least) every question is asked with HIGHER_CONSISTENCY, past the server's own
 * caches, so a revoke made here takes effect on the next request; a write the changelog shows
 * was made elsewhere does the same within about a second.
 */
export class OpenFgaAuthorizer implements Authorizer {
  readonly backend = "openfga";
  private readonly lists: ListObjectsCache | undefined;
  private readonly changes: StoreChangeWatch;
  private lastChangeAt = Number.NEGATIVE_INFINITY;
  private readonly writeWindowMs: number;

  private constructor(
    private readonly client: OpenFgaClient,
    readonly storeId: string,
    readonly modelId: string,
    options: Pick<OpenFgaOptions, "listCacheTtlMs" | "changesEveryMs">,
  ) {
    const ttlMs = options.listCacheTtlMs ?? DEFAULT_LIST_CACHE_TTL_MS;
    this.writeWindowMs = Math.max(ttlMs, DEFAULT_LIST_CACHE_TTL_MS);
    this.lists = ttlMs > 0 ? new ListObjectsCache({ ttlMs }) : undefined;
    this.changes = new StoreChangeWatch(client, options.changesEveryMs ?? DEFAULT_CHANGES_EVERY_MS);
  }

  /** Past the server's caches when asked to, or while a change we know of may not be in them. */
  private consistency(options?: ReadOptions) {
    return options?.fresh || Date.now() - this.lastChangeAt < this.writeWindowMs
      ? ConsistencyPreference.HigherConsistency
      : ConsistencyPreference.MinimizeLatency;
  }

  static async connect(options: OpenFgaOptions): Promise<OpenFgaAuthorizer> {
    const credentials = options.apiToken
      ? {
          method: CredentialsMethod.ApiToken as const,
          config: {
            token: options.apiToken,
            headerName: "Authorization",
            headerValuePrefix: "Bearer",
          },
        }
      : undefined;
    const base = {
      apiUrl: options.apiUrl,
      credentials,
      retryParams: { maxRetry: 1, minWaitInMs: 50 },
    };
    const storeId = await ensureStore(
      new OpenFgaClient(base),
      options.storeId,
      options.storeName ?? "switchboard",
    );
    const storeClient = new OpenFgaClient({ ...base, storeId });
    const modelId = await ensureModel(storeClient, options.modelDsl);
    return new OpenFgaAuthorizer(
      new OpenFgaClient({ ...base, storeId, authorizationModelId: modelId }),
      storeId,
      modelId,
      options,
    );
  }

  async check(request: CheckRequest, options?: ReadOptions): Promise<boolean> {
    const { user, relation, object, contextualTuples } = request;
    const response = await this.call(() =>
      this.client.check(
        { user, relation, object, contextualTuples: nonEmpty(contextualTuples) },
        { consistency: this.consistency(options) },
      ),
    );
    return response.allowed === true;
  }

  async batchCheck(request: BatchCheck, options?: ReadOptions): Promise<boolean[]> {
    if (request.objects.length === 0) return [];
    const checks = request.objects.map((object, i) => ({
      user: request.user,
      relation: request.relation,
      object,
      correlationId: String(i),
      ...(request.contextualTuples?.length
        ? { contextualTuples: { tuple_keys: request.contextualTuples } }
        : {}),
    }));
    const response = await this.call(() =>
      this.client.batchCheck({ checks }, { consistency: this.consistency(options) }),
    );
    const answers = new Array<boolean>(checks.length).fill(false);
    for (const result of response.result) {
      if (result.error)
        throw translateOpenFgaError(new Error(result.error.message ?? "batch check failed"));
      answers[Number(result.correlationId)] = result.allowed === true;
    }
    return answers;
  }

  async listObjects(request: ListObjectsRequest, options?: ReadOptions): Promise<string[]> {
    // Contextual tuples and conditions' context make an answer one-off: never kept.
    const oneOff = Boolean(request.contextualTuples?.length || request.context);
    if (!this.lists || options?.fresh || oneOff) return this.streamList(request, options);
    // Looked at in the background: no request waits on the changelog. A write made elsewhere
    // empties the cache within about a second (our own writes do at once, see write), and
    // what is asked next goes past the server's caches, which may not have dropped it yet.
    const lists = this.lists;
    this.changes.changed().then((changed) => {
      if (!changed) return;
      this.lastChangeAt = Date.now();
      lists.invalidate();
    });
    const key = `${request.user}\n${request.relation}\n${request.type}`;
    return this.lists.get(key, () => this.streamList(request));
  }

  /** Every object, however many: the streamed call is not cut at the server's max results. */
  private async streamList(request: ListObjectsRequest, options?: ReadOptions): Promise<string[]> {
    return this.call(async () => {
      const objects: string[] = [];
      const stream = this.client.streamedListObjects(
        {
          user: request.user,
          relation: request.relation,
          type: request.type,
          contextualTuples: nonEmpty(request.contextualTuples),
          context: request.context,
        },
        { consistency: this.consistency(options) },
      );
      for await (const { object } of stream) objects.push(object);
      return objects;
    });
  }

  async listUsers(request: ListUsersRequest, options?: ReadOptions): Promise<string[]> {
    const response = await this.call(() =>
      this.client.listUsers(listUsersBody(request), { consistency: this.consistency(options) }),
    );
    return response.users.map(listedUser);
  }

  /**
   * One request, so all or nothing, up to the server's 100 tuples per write. More (a team sync
   * at start-up with over 100 teams) go in requests of 100, deletes first: a failure part-way
   * then leaves less access, never more, and the write can be repeated (writes are idempotent).
   */
  async write(writes: TupleKey[], deletes: TupleKey[] = []): Promise<void> {
    if (writes.length === 0 && deletes.length === 0) return;
    const requests =
      writes.length + deletes.length <= WRITE_CHUNK
        ? [{ writes, deletes }]
        : [
            ...chunks(deletes).map((part) => ({ writes: [], deletes: part })),
            ...chunks(writes).map((part) => ({ writes: part, deletes: [] })),
          ];
    try {
      for (const request of requests) {
        await this.call(() =>
          this.client.write(
            { writes: request.writes.map(plain), deletes: request.deletes.map(plain) },
            {
              conflict: {
                onDuplicateWrites: ClientWriteRequestOnDuplicateWrites.Ignore,
                onMissingDeletes: ClientWriteRequestOnMissingDeletes.Ignore,
              },
            },
          ),
        );
      }
    } catch (error) {
      throw asInvalidTuple(error);
    } finally {
      // Even a failed write may have stored part of it: forget what was listed before it.
      this.lastChangeAt = Date.now();
      this.lists?.invalidate();
    }
  }

  async read(filter: ReadFilter = {}): Promise<TupleKey[]> {
    const tuples: TupleKey[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.call(() =>
        this.client.read(
          { user: filter.user, relation: filter.relation, object: filter.object },
          {
            continuationToken,
            pageSize: 100,
            consistency: ConsistencyPreference.HigherConsistency,
          },
        ),
      );
      for (const { key } of page.tuples)
        tuples.push({ user: key.user, relation: key.relation, object: key.object });
      continuationToken = page.continuation_token || undefined;
    } while (continuationToken);
    return tuples;
  }

  async ping(): Promise<void> {
    await this.call(() => this.client.readAuthorizationModel());
  }

  async close(): Promise<void> {
    // The SDK holds no connections of its own that outlive a request.
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw translateOpenFgaError(error);
    }
  }
}

/**
 * OpenFGA refuses a tuple its model does not allow with a generic `validation_error`; the
 * embedded evaluator calls the same refusal `invalid_tuple`, and so do we, whichever answers.
 */
function asInvalidTuple(error: unknown): unknown {
  if (
    error instanceof AuthzError &&
    error.code === "validation_error" &&
    /invalid tuple/i.test(error.message)
  ) {
    return new AuthzError("invalid_tuple", error.message, { cause: error });
  }
  return error;
}

function chunks(tuples: TupleKey[]): TupleKey[][] {
  const parts: TupleKey[][] = [];
  for (let i = 0; i < tuples.length; i += WRITE_CHUNK) parts.push(tuples.slice(i, i + WRITE_CHUNK));
  return parts;
}

function plain(tuple: TupleKey): TupleKey {
  return { user: tuple.user, relation: tuple.relation, object: tuple.object };
}
