import type { Knex } from "knex";
import { z } from "zod";
import {
  type AccessPolicy,
  type Authorizer,
  actorOf,
  agentObject,
  PLATFORM,
  type Principal,
  type TupleKey,
} from "../authz/index.js";
import { badRequest, conflict, forbidden, notFound } from "../core/index.js";
import type { AuditLog } from "../governance/index.js";
import { requireOwner, requireSecretName, requireValue, secretObject } from "./secret-names.js";
import { type RotationReport, rotateDataKeys } from "./store/rotation.js";
import type { SecretRecord, SecretStore } from "./store/secret-store.js";

/** A secret as its owner sees it: metadata and who may use it, never the value. */
export interface SecretSummary extends SecretRecord {
  /** Names of the agents granted it. */
  agents: string[];
}

/** What `PUT /secrets/{name}` and the site's form send. */
export const secretWriteSchema = z.strictObject({
  value: z.string().optional().describe("The value; required to create. Never shown again."),
  owner: z.string().optional().describe("user:EMAIL or team:SLUG; required to create."),
  description: z.string().max(500).optional().describe("What the secret is for."),
});
export type SecretWrite = z.output<typeof secretWriteSchema>;

export interface SecretChange {
  outcome: "created" | "updated";
  secret: SecretSummary;
}

export interface RequestContext {
  requestId?: string | undefined;
}

/** Agent names are slugs; anything else names no agent. */
const AGENT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const USED_BY = "used_by";

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
  ) {}

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
    const parsed = secretWriteSchema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (i) => `${i.path.join(".") || "body"}: ${i.message}`,
      );
      throw badRequest(`The secret is not valid: ${problems.join("; ")}`);
    }
    const write = parsed.data;
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
    await this.clearTuples(secret.name);
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
    if (!(await this.mayGrantTo(principal, agent))) throw notFound(`The agent "${agent}"`);
    await this.parts.authorizer.write([usedBy(secret.name, agent)]);
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
    if (!AGENT_NAME.test(agent)) throw notFound(`The agent "${agent}"`);
    await this.parts.authorizer.write([], [usedBy(secret.name, agent)]);
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
    const { store, authorizer } = this.parts;
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
    // The name is this secret's now (its row won the insert): tuples a deleted namesake left
    // go, so no old grant carries over, then its owner's are written. Not inside the
    // transaction: the embedded authorizer writes through the same database.
    try {
      await this.clearTuples(name);
      await authorizer.write(ownerTuples(name, owner));
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

  private async mayGrantTo(principal: Principal, agent: string): Promise<boolean> {
    if (!AGENT_NAME.test(agent) || !(await this.parts.agentExists(agent))) return false;
    return (
      principal.kind === "system" || this.parts.access.can(principal, "viewer", agentObject(agent))
    );
  }

  private async summarize(record: SecretRecord): Promise<SecretSummary> {
    const tuples = await this.parts.authorizer.read({
      object: secretObject(record.name),
      relation: USED_BY,
    });
    const agents = tuples.map((tuple) => tuple.user.slice("agent:".length)).sort();
    return { ...record, agents };
  }

  private async clearTuples(name: string): Promise<void> {
    const stale = await this.parts.authorizer.read({ object: secretObject(name) });
    if (stale.length > 0) await this.parts.authorizer.write([], stale);
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

function usedBy(secret: string, agent: string): TupleKey {
  return { user: agentObject(agent), relation: USED_BY, object: secretObject(secret) };
}

function ownerTuples(name: string, owner: string): TupleKey[] {
  const object = secretObject(name);
  return [
    { user: PLATFORM, relation: "platform", object },
    owner.startsWith("team:")
      ? { user: owner, relation: "owner_team", object }
      : { user: owner, relation: "owner", object },
  ];
}
