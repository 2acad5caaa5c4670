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
import { translateOpenFgaError } from "./errors.js";
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
}

// OpenFGA accepts at most this many tuples in one write by default.
const WRITE_CHUNK = 100;

function consistency(options?: ReadOptions) {
  return options?.fresh
    ? ConsistencyPreference.HigherConsistency
    : ConsistencyPreference.MinimizeLatency;
}

/** The Authorizer backed by an OpenFGA server, pinned to the model id it found or wrote. */
export class OpenFgaAuthorizer implements Authorizer {
  readonly backend = "openfga";

  private constructor(
    private readonly client: OpenFgaClient,
    readonly storeId: string,
    readonly modelId: string,
  ) {}

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
    );
  }

  async check(request: CheckRequest, options?: ReadOptions): Promise<boolean> {
    const { user, relation, object, contextualTuples } = request;
    const response = await this.call(() =>
      this.client.check(
        { user, relation, object, contextualTuples: nonEmpty(contextualTuples) },
        { consistency: consistency(options) },
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
      this.client.batchCheck({ checks }, { consistency: consistency(options) }),
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
    const response = await this.call(() =>
      this.client.listObjects(
        {
          user: request.user,
          relation: request.relation,
          type: request.type,
          contextualTuples: nonEmpty(request.contextualTuples),
        },
        { consistency: consistency(options) },
      ),
    );
    return response.objects;
  }

  async listUsers(request: ListUsersRequest, options?: ReadOptions): Promise<string[]> {
    const response = await this.call(() =>
      this.client.listUsers(listUsersBody(request), { consistency: consistency(options) }),
    );
    return response.users.map(listedUser);
  }

  async write(writes: TupleKey[], deletes: TupleKey[] = []): Promise<void> {
    if (writes.length === 0 && deletes.length === 0) return;
    try {
      await this.call(() =>
        this.client.write(
          { writes: writes.map(plain), deletes: deletes.map(plain) },
          {
            transaction: { maxPerChunk: WRITE_CHUNK },
            conflict: {
              onDuplicateWrites: ClientWriteRequestOnDuplicateWrites.Ignore,
              onMissingDeletes: ClientWriteRequestOnMissingDeletes.Ignore,
            },
          },
        ),
      );
    } catch (error) {
      throw asInvalidTuple(error);
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

function plain(tuple: TupleKey): TupleKey {
  return { user: tuple.user, relation: tuple.relation, object: tuple.object };
}
