import { randomBytes } from "node:crypto";
import { OpenFgaClient } from "@openfga/sdk";
import { transformer } from "@openfga/syntax-transformer";
import type {
  ConformanceStage,
  ConformanceStore,
  ConformanceTarget,
} from "../conformance/index.js";
import type { TupleKey } from "../types.js";
import { translateOpenFgaError } from "./errors.js";
import { listedUser, listUsersBody, nonEmpty } from "./wire.js";

/**
 * A real OpenFGA server as a conformance target: a fresh store per case, each stage writing
 * its model (which becomes current) and its tuples, exactly as OpenFGA's own suite does.
 */
export function openFgaTarget(apiUrl: string): ConformanceTarget {
  return {
    name: `OpenFGA server at ${apiUrl}`,
    async openStore() {
      const admin = new OpenFgaClient({ apiUrl });
      const { id } = await admin.createStore({
        name: `conformance-${randomBytes(6).toString("hex")}`,
      });
      return new OpenFgaStore(new OpenFgaClient({ apiUrl, storeId: id }));
    },
  };
}

async function translated<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateOpenFgaError(error);
  }
}

class OpenFgaStore implements ConformanceStore {
  constructor(private readonly client: OpenFgaClient) {}

  async openStage(modelDsl: string, tuples: TupleKey[]): Promise<ConformanceStage> {
    const model = transformer.transformDSLToJSONObject(modelDsl);
    const { authorization_model_id: modelId } = await translated(() =>
      this.client.writeAuthorizationModel(
        model as Parameters<OpenFgaClient["writeAuthorizationModel"]>[0],
      ),
    );
    const options = { authorizationModelId: modelId };
    for (let i = 0; i < tuples.length; i += 100) {
      await translated(() => this.client.writeTuples(tuples.slice(i, i + 100), options));
    }
    const client = this.client;
    return {
      async check(request) {
        const { allowed } = await translated(() =>
          client.check(
            {
              user: request.user,
              relation: request.relation,
              object: request.object,
              contextualTuples: nonEmpty(request.contextualTuples),
            },
            options,
          ),
        );
        return allowed === true;
      },
      async listObjects(request) {
        const { objects } = await translated(() =>
          client.listObjects(
            {
              user: request.user,
              relation: request.relation,
              type: request.type,
              contextualTuples: nonEmpty(request.contextualTuples),
            },
            options,
          ),
        );
        return objects;
      },
      async listUsers(request) {
        const { users } = await translated(() => client.listUsers(listUsersBody(request), options));
        return users.map(listedUser);
      },
    };
  }

  async close(): Promise<void> {
    await this.client.deleteStore().catch(() => {});
  }
}
