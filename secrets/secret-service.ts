import type { Knex } from "knex";
import {
  type AccessPolicy,
  type Authorizer,
  actorOf,
  agentObject,
  type Principal,
} from "../authz/index.js";
import { badRequest, conflict, forbidden, notFound } from "../core/index.js";
import type { AuditLog } from "../governance/index.js";
import {
  isAgentName,
  requireOwner,
  requireSecretName,
  requireValue,
  secretObject,
} from "./secret-names.js";
import { SecretTuples } from "./secret-tuples.js";
import {
  parseSecretWrite,
  type SecretChange,
  type SecretSummary,
  type SecretWrite,
} from "./secret-write.js";
import { type RotationReport, rotateDataKeys } from "./store/rotation.js";
import type { SecretRecord, SecretStore } from "./store/secret-store.js";

export interface RequestContext {
  requestId?: string | undefined;
}

/**
 * The secret store as a person sees it, and as the operator (the CLI, a system principal)
 * manages it. Only a secret's owner (the person, its team's admins, platform admins) sees,
 * changes, grants, revokes or deletes it; to anyone else it does not exist. Values go in and
 * never come out: `SecretResolution` alone reads them, for a runtime call.
 *
 * Grants go only to agents that exist and that the granter may view: a grant waiting for a
 * name would go to whoever registers that name next.
 */
export class SecretService {
  private readonly tuples: SecretTuples;

  constructor(
    private readonly parts: {
      knex: Knex;
      store: SecretStore;
      authorizer: Authorizer;
      access: AccessPolicy;
      audit: AuditLog;
      /** Whether a live (not retired) agent has this name. */
      agentExists(name: string): Promise<boolean>;
    },
  ) {
    this.tuples = new SecretTuples(parts.authorizer);
  }

  /** The secrets the principal owns (every one, for the operator), by name. */
  async list(principal: Principal): Promise<SecretSummary[]> {
    const { store, access } = this.parts;
    store.wrapper();
    const names =
      principal.kind === "system"
        ? undefined
        : (await access.list(principal, "owner", "secret")).map((object) =>
            object.slice("secret:".length),
          );
    const records = await store.findMany(names);
    return Promise.all(records.map((record) => this.summarize(record)));
  }

  /** One secret the principal owns; 404 otherwise, as for one that does not exist. */
  async get(principal: Principal, name: string): Promise<SecretSummary> {
    return this.summarize(await this.owned(principal, name));
  }

  /** Creates the secret, or changes the value or description of one the principal owns. */
  async put(
    principal: Principal,
    rawName: string,
    body: unknown,
    context: RequestContext = {},
  ): Promise<SecretChange> {
    const name = requireSecretName(rawName);
    const write = parseSecretWrite(body);
    const existing = await this.parts.store.find(name);
    if (!existing)
      return { outcome: "created", secret: await this.create(principal, name, write, context) };
    if (!(await this.mayOwn(principal, name))) {
      throw conflict(
        `A secret named "${name}" already exists and is not yours; choose another name.`,
      );
    }
    if (write.owner !== undefined && requireOwner(write.owner) !== existing.owner) {
      throw badRequest(
        `The owner of "${name}" is ${existing.owner}; a secret's owner does not change (delete it and create it again under the new owner).`,
      );
    }
    const value = write.value === undefined ? undefined : requireValue(write.value);
    const updated = await this.parts.knex.transaction(async (trx) => {
      const record = await this.parts.store.update(
        name,
        { value, description: write.description, actor: actorOf(principal) },
        trx,
      );
      if (!record) throw notFound(`The secret "${name}"`);
      await this.record(principal, "secret.updated", name, context, trx, {
        version: record.version,
        value_changed: value !== undefined,
        description_changed: write.description !== undefined,
      });
      return record;
    });
    return { outcome: "updated", secret: await this.summarize(updated) };
  }

  /** Deletes the secret and every grant of it; answers its name as stored. */
  async remove(
    principal: Principal,
    rawName: string,
    context: RequestContext = {},
  ): Promise<string> {
    const secret = await this.owned(principal, rawName);
    await this.parts.knex.transaction(async (trx) => {
      await this.parts.store.remove(secret.name, trx);
      await this.record(principal, "secret.deleted", secret.name, context, trx);
    });
    await this.tuples.clear(secret.name);
    return secret.name;
  }

  /** Lets the agent's runs use the secret. */
  async grant(
    principal: Principal,
    rawName: string,
    agent: string,
    context: RequestContext = {},
  ): Promise<SecretSummary> {
    const secret = await this.owned(principal, rawName);
    await this.requireGrantable(principal, agent);
    await this.tuples.grant(secret.name, agent);
    await this.record(principal, "secret.granted", secret.name, context, undefined, { agent });
    return this.summarize(secret);
  }

  /** Stops the agent's runs from using the secret, from their next runtime call on. */
  async revoke(
    principal: Principal,
    rawName: string,
    agent: string,
    context: RequestContext = {},
  ): Promise<SecretSummary> {
    const secret = await this.owned(principal, rawName);
    if (!isAgentName(agent)) throw notFound(`The agent "${agent}"`);
    await this.tuples.revoke(secret.name, agent);
    await this.record(principal, "secret.revoked", secret.name, context, undefined, { agent });
    return this.summarize(secret);
  }

  /**
   * Re-wraps every data key under the current key-encryption key (see `rotateDataKeys`):
   * the operator's job, after putting a new key first.
   */
  async rotate(
    principal: Principal,
    options: { batchSize?: number } = {},
  ): Promise<RotationReport> {
    if (principal.kind !== "system")
      throw forbidden("Only the operator rotates the secret store's keys.");
    const report = await rotateDataKeys(this.parts.knex, this.parts.store.wrapper(), options);
    await this.parts.audit.record({
      actor: actorOf(principal),
      action: "secrets.rotated",
      targetType: "secret",
      details: {
        key_id: report.currentKeyId,
        rewrapped: report.rewrapped,
        failed: report.failed.map((failure) => failure.name),
      },
    });
    return report;
  }

  private async create(
    principal: Principal,
    name: string,
    write: SecretWrite,
    context: RequestContext,
  ): Promise<SecretSummary> {
    if (write.owner === undefined) {
      throw badRequest(`To create "${name}", give its owner: user:EMAIL or team:SLUG.`);
    }
    const owner = requireOwner(write.owner);
    const value = requireValue(write.value);
    if (principal.kind !== "system" && !(await this.parts.access.mayCreateFor(principal, owner))) {
      throw forbidden(
        `Only platform admins${owner.startsWith("team:") ? ` and admins of ${owner}` : ""} may create a secret owned by ${owner}.`,
      );
    }
    const { store } = this.parts;
    const created = await this.parts.knex.transaction(async (trx) => {
      const record = await store.create(
        { name, owner, description: write.description ?? "", value, actor: actorOf(principal) },
        trx,
      );
      if (!record) {
        throw conflict(`A secret named "${name}" already exists; choose another name.`);
      }
      await this.record(principal, "secret.created", name, context, trx, { owner });
      return record;
    });
    // The name is this secret's now (its row won the insert), so its owner's tuples go in.
    // Not inside the transaction: the embedded authorizer writes through the same database.
    try {
      await this.tuples.own(name, owner);
    } catch (error) {
      await store.remove(name).catch(() => {});
      throw error;
    }
    return { ...created, agents: [] };
  }

  private async owned(principal: Principal, rawName: string): Promise<SecretRecord> {
    const name = requireSecretName(rawName);
    const record = await this.parts.store.find(name);
    if (!record || !(await this.mayOwn(principal, name))) throw notFound(`The secret "${name}"`);
    return record;
  }

  private mayOwn(principal: Principal, name: string): Promise<boolean> {
    if (principal.kind === "system") return Promise.resolve(true);
    return this.parts.access.can(principal, "owner", secretObject(name), { fresh: true });
  }

  /**
   * A secret goes only to an agent its granter may edit: whoever edits an agent decides where
   * its calls go anyway, and its owners must agree to what it sends. Without that, someone
   * could grant their own credential under a name another team's manifest refers to, and
   * that agent's calls (its data) would go out under the granter's account.
   */
  private async requireGrantable(principal: Principal, agent: string): Promise<void> {
    const missing = notFound(`The agent "${agent}"`);
    if (!isAgentName(agent) || !(await this.parts.agentExists(agent))) throw missing;
    if (principal.kind === "system") return;
    const object = agentObject(agent);
    if (!(await this.parts.access.can(principal, "viewer", object))) throw missing;
    if (!(await this.parts.access.can(principal, "editor", object))) {
      throw forbidden(
        `A secret can be granted only to an agent you may edit, so its owners agree to what it sends; ask an owner of "${agent}" to grant it.`,
      );
    }
  }

  private async summarize(record: SecretRecord): Promise<SecretSummary> {
    return { ...record, agents: await this.tuples.agentsOf(record.name) };
  }

  private record(
    principal: Principal,
    action: string,
    name: string,
    context: RequestContext,
    trx?: Knex,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    return this.parts.audit.record(
      {
        actor: actorOf(principal),
        action,
        targetType: "secret",
        targetId: name,
        details,
        requestId: context.requestId,
      },
      trx,
    );
  }
}
