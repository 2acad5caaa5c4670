import type { Knex } from "knex";
import type { OutageLogger } from "../core/index.js";
import type { Authorizer } from "./authorizer.js";
import { EmbeddedAuthorizer } from "./embedded-store/embedded-authorizer.js";
import { OpenFgaAuthorizer } from "./openfga/openfga-authorizer.js";
import { loadPolicyModel } from "./policy-model.js";

export interface AuthorizerSettings {
  /** Set: the OpenFGA server decides. Unset: the embedded evaluator, tuples in `knex`. */
  openFgaApiUrl?: string | undefined;
  openFgaStoreId?: string | undefined;
  openFgaApiToken?: string | undefined;
  /** How long the OpenFGA server's list answers are kept; see OpenFgaAuthorizer. */
  openFgaListCacheTtlMs?: number | undefined;
  knex: Knex;
  /** PostgreSQL URL, so embedded evaluators in several processes stay in step. */
  databaseUrl?: string | undefined;
  /** Another model instead of authz/model.fga (tests). */
  modelDsl?: string;
  /** Where the embedded evaluator's change feed says it lost its connection and got it back. */
  logger?: OutageLogger | undefined;
}

/** The authorizer the configuration asks for, with Switchboard's policy model in place. */
export async function openAuthorizer(settings: AuthorizerSettings): Promise<Authorizer> {
  const modelDsl = settings.modelDsl ?? loadPolicyModel();
  if (settings.openFgaApiUrl) {
    return OpenFgaAuthorizer.connect({
      apiUrl: settings.openFgaApiUrl,
      storeId: settings.openFgaStoreId,
      apiToken: settings.openFgaApiToken,
      modelDsl,
      listCacheTtlMs: settings.openFgaListCacheTtlMs,
    });
  }
  return EmbeddedAuthorizer.open({
    knex: settings.knex,
    modelDsl,
    databaseUrl: settings.databaseUrl,
    logger: settings.logger,
  });
}

export const PLATFORM = "platform:switchboard";

/**
 * Makes sure everyone in SWITCHBOARD_ADMINS is a platform admin, and removes no one: admins
 * are also made on the admin page and must stay across restarts, so the list only bootstraps.
 * Taking someone's rights away is done on the admin page (or `authz revoke`), where it is
 * audited. `removed` stays in the answer, always empty, for callers that log it.
 */
export async function syncPlatformAdmins(
  authorizer: Authorizer,
  emails: readonly string[],
): Promise<{ added: string[]; removed: string[] }> {
  const wanted = new Set(emails.map((email) => `user:${email.trim().toLowerCase()}`));
  const current = await authorizer.read({ object: PLATFORM, relation: "admin" });
  const have = new Set(current.map((t) => t.user));
  const added = [...wanted].filter((user) => !have.has(user));
  if (added.length > 0)
    await authorizer.write(added.map((user) => ({ user, relation: "admin", object: PLATFORM })));
  return { added, removed: [] };
}
