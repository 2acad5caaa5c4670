import type { OpenFgaClient } from "@openfga/sdk";
import { transformer } from "@openfga/syntax-transformer";
import { translateOpenFgaError } from "./errors.js";

/** Finds the store by name, or creates it; an explicit id is used as given. */
export async function ensureStore(
  client: OpenFgaClient,
  storeId: string | undefined,
  name: string,
): Promise<string> {
  if (storeId) return storeId;
  try {
    let continuationToken: string | undefined;
    do {
      const page = await client.listStores({ continuationToken, pageSize: 100 });
      const found = page.stores.find((store) => store.name === name);
      if (found) return found.id;
      continuationToken = page.continuation_token || undefined;
    } while (continuationToken);
    return (await client.createStore({ name })).id;
  } catch (error) {
    throw translateOpenFgaError(error);
  }
}

/**
 * The model with everything that does not change its meaning taken out: key order (the
 * server returns relations sorted), and empty or null fields (it fills in defaults).
 */
export function canonicalModel(value: unknown): string {
  return JSON.stringify(prune(value));
}

function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prune);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const pruned = prune((value as Record<string, unknown>)[key]);
    const empty =
      pruned === null ||
      pruned === undefined ||
      pruned === "" ||
      (Array.isArray(pruned) && pruned.length === 0) ||
      (typeof pruned === "object" &&
        !Array.isArray(pruned) &&
        Object.keys(pruned as object).length === 0);
    if (!empty && key !== "id") out[key] = pruned;
  }
  return out;
}

/**
 * Writes the model unless the store's latest one is the same, and returns the id to pin:
 * every process then evaluates one model, even while a newer deploy writes the next.
 */
export async function ensureModel(client: OpenFgaClient, dsl: string): Promise<string> {
  const wanted = transformer.transformDSLToJSONObject(dsl);
  try {
    const latest = await client.readLatestAuthorizationModel();
    const stored = latest.authorization_model;
    if (stored && canonicalModel(stored) === canonicalModel(wanted)) return stored.id;
    const written = await client.writeAuthorizationModel(
      wanted as Parameters<OpenFgaClient["writeAuthorizationModel"]>[0],
    );
    return written.authorization_model_id;
  } catch (error) {
    throw translateOpenFgaError(error);
  }
}
