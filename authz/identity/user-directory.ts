import type { Knex } from "knex";
import { badRequest, conflict, isUuid } from "../../core/index.js";

/** One person: the row behind every Principal. */
export interface User {
  id: string;
  email: string;
  displayName: string | null;
  isActive: boolean;
}

/** A person as the identity provider sees them (SCIM): what it calls them, besides the email. */
export interface ProvisionedUser extends User {
  /** The provider's userName; the email for a person it never named. */
  userName: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One attribute equal to a value: how an identity provider looks a person up (SCIM `userName eq "…"`). */
export interface ProvisionedMatch {
  field: "id" | "userName" | "externalId" | "displayName";
  value: string;
}

/** What the identity provider sets on a person (a SCIM create or full replace). */
export interface ProvisionedFields {
  userName: string;
  email: string;
  externalId: string | null;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  active: boolean;
}

/** Where a person signs in from: a Slack user, a Teams (AAD) user, an OIDC subject. */
export interface ExternalIdentity {
  provider: "slack" | "teams" | "oidc";
  /** Slack workspace (team) id, Teams tenant id, OIDC issuer; "" where there is none. */
  tenant: string;
  externalId: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

interface UserRow {
  id: string;
  email: string;
  display_name: string | null;
  is_active: boolean;
  scim_user_name?: string | null;
  scim_external_id?: string | null;
  given_name?: string | null;
  family_name?: string | null;
  scim_deleted_at?: Date | null;
  created_at?: Date;
  updated_at?: Date;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  // A person the identity provider deleted is refused like a deactivated one.
  isActive: row.is_active && !row.scim_deleted_at,
});

/**
 * Whether the user with this id is active (`toUser`'s rule), as one expression a caller
 * folds into a read of its own: null when there is no such user. The runs service reads it
 * with the rest of what starting a run needs, in one round trip.
 */
export function userIsActive(knex: Knex, id: string): Knex.QueryBuilder {
  return knex("users").select(knex.raw("(is_active and scim_deleted_at is null)")).where({ id });
}

const toProvisioned = (row: UserRow): ProvisionedUser => ({
  ...toUser(row),
  userName: row.scim_user_name ?? row.email,
  externalId: row.scim_external_id ?? null,
  givenName: row.given_name ?? null,
  familyName: row.family_name ?? null,
  createdAt: row.created_at as Date,
  updatedAt: row.updated_at as Date,
});

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (!EMAIL.test(normalized)) throw badRequest(`"${email}" is not an email address.`);
  return normalized;
}

/**
 * Users keyed by email: one user per person however many surfaces they come from. The chat
 * integrations map their own ids onto a user once and find them by that id afterwards.
 */
export class UserDirectory {
  constructor(private readonly knex: Knex) {}

  async findByEmail(email: string): Promise<User | undefined> {
    const row: UserRow | undefined = await this.knex("users")
      .where({ email: normalizeEmail(email) })
      .first();
    return row && toUser(row);
  }

  async findById(id: string): Promise<User | undefined> {
    const row: UserRow | undefined = await this.knex("users").where({ id }).first();
    return row && toUser(row);
  }

  /** Finds the person by email, creating them on first sight. Safe under concurrent calls. */
  async ensureUser(email: string, displayName?: string): Promise<User> {
    const normalized = normalizeEmail(email);
    const [inserted]: UserRow[] = await this.knex("users")
      .insert({ email: normalized, display_name: displayName ?? null })
      .onConflict("email")
      .ignore()
      .returning("*");
    if (inserted) return toUser(inserted);
    const existing = (await this.findByEmail(normalized)) as User;
    if (displayName && !existing.displayName) {
      await this.knex("users")
        .where({ id: existing.id })
        .update({ display_name: displayName, updated_at: this.knex.fn.now() });
      return { ...existing, displayName };
    }
    return existing;
  }

  async findByIdentity(identity: ExternalIdentity): Promise<User | undefined> {
    const row: UserRow | undefined = await this.knex("user_identities as i")
      .join("users as u", "u.id", "i.user_id")
      .where({
        "i.provider": identity.provider,
        "i.tenant": identity.tenant,
        "i.external_id": identity.externalId,
      })
      .first("u.*");
    return row && toUser(row);
  }

  /**
   * The ids a person (by email) is known by on one provider and tenant: e.g. their Entra
   * object id, so a Teams bot can open a 1:1 chat with an approver it must tell.
   */
  async externalIdsOf(
    email: string,
    provider: ExternalIdentity["provider"],
    tenant: string,
  ): Promise<string[]> {
    const rows: { external_id: string }[] = await this.knex("user_identities as i")
      .join("users as u", "u.id", "i.user_id")
      .where({ "u.email": normalizeEmail(email), "u.is_active": true })
      .andWhere({ "i.provider": provider, "i.tenant": tenant })
      .select("i.external_id");
    return rows.map((row) => row.external_id);
  }

  /** Maps an external id onto a user; a later link of the same id moves it (e.g. a changed email). */
  async linkIdentity(identity: ExternalIdentity, userId: string): Promise<void> {
    await this.knex("user_identities")
      .insert({
        provider: identity.provider,
        tenant: identity.tenant,
        external_id: identity.externalId,
        user_id: userId,
      })
      .onConflict(["provider", "tenant", "external_id"])
      .merge({ user_id: userId });
  }

  // ---- The identity provider's view (SCIM): every person not deleted by it is a resource.

  /**
   * A page of the people the identity provider may see, oldest first, and how many there are
   * in all: the lookup and the page are done by the database, so a large directory is never
   * read whole. userName and displayName ignore case; id and externalId do not (RFC 7643).
   */
  async pageProvisioned(query: {
    match?: ProvisionedMatch | undefined;
    offset: number;
    limit: number;
  }): Promise<{ users: ProvisionedUser[]; total: number }> {
    const { match } = query;
    if (match?.field === "id" && !isUuid(match.value)) return { users: [], total: 0 };
    const matching = this.knex("users").whereNull("scim_deleted_at");
    if (match?.field === "id") matching.where({ id: match.value });
    if (match?.field === "externalId") matching.where({ scim_external_id: match.value });
    if (match?.field === "displayName") {
      matching.whereRaw("lower(display_name) = lower(?)", [match.value]);
    }
    if (match?.field === "userName") {
      // A person the provider never named is known by their email (stored in lower case);
      // both sides use an index (users_scim_user_name_unique, users_email_unique).
      matching.where((q) =>
        q
          .whereRaw("lower(scim_user_name) = lower(?)", [match.value])
          .orWhere((email) =>
            email.whereNull("scim_user_name").whereRaw("email = lower(?)", [match.value]),
          ),
      );
    }
    const [counted] = (await matching.clone().count({ count: "*" })) as { count: string }[];
    const rows: UserRow[] =
      query.limit === 0
        ? []
        : await matching
            .orderBy([{ column: "created_at" }, { column: "id" }])
            .offset(query.offset)
            .limit(query.limit);
    return { users: rows.map(toProvisioned), total: Number(counted?.count ?? 0) };
  }

  /** Every person the identity provider may see, oldest first (stable pages). */
  async listProvisioned(): Promise<ProvisionedUser[]> {
    const rows: UserRow[] = await this.knex("users")
      .whereNull("scim_deleted_at")
      .orderBy([{ column: "created_at" }, { column: "id" }]);
    return rows.map(toProvisioned);
  }

  async findProvisioned(id: string): Promise<ProvisionedUser | undefined> {
    const row: UserRow | undefined = await this.knex("users")
      .where({ id })
      .whereNull("scim_deleted_at")
      .first();
    return row && toProvisioned(row);
  }

  /**
   * Creates a person, or adopts the one already known by that email (someone who came from
   * Slack before the identity provider was connected). A userName or email that is another
   * provisioned person's is a conflict.
   */
  async provision(fields: ProvisionedFields): Promise<ProvisionedUser> {
    const email = normalizeEmail(fields.email);
    return this.knex.transaction(async (trx) => {
      await this.refuseTakenUserName(trx, fields.userName, undefined);
      const existing: UserRow | undefined = await trx("users").where({ email }).forUpdate().first();
      const columns = {
        scim_user_name: fields.userName,
        scim_external_id: fields.externalId,
        display_name: fields.displayName,
        given_name: fields.givenName,
        family_name: fields.familyName,
        is_active: fields.active,
        scim_deleted_at: null,
        updated_at: trx.fn.now(),
      };
      if (existing) {
        if (existing.scim_user_name && !existing.scim_deleted_at) {
          throw conflict(`The email ${email} belongs to the person "${existing.scim_user_name}".`);
        }
        const [row] = (await trx("users")
          .where({ id: existing.id })
          .update(columns)
          .returning("*")) as UserRow[];
        return toProvisioned(row as UserRow);
      }
      const [row] = (await trx("users")
        .insert({ ...columns, email })
        .returning("*")) as UserRow[];
      return toProvisioned(row as UserRow);
    });
  }

  /** Replaces what the provider sets on a person; undefined when there is no such person. */
  async replaceProvisioned(
    id: string,
    fields: ProvisionedFields,
  ): Promise<{ before: ProvisionedUser; after: ProvisionedUser } | undefined> {
    const email = normalizeEmail(fields.email);
    return this.knex.transaction(async (trx) => {
      const current: UserRow | undefined = await trx("users")
        .where({ id })
        .whereNull("scim_deleted_at")
        .forUpdate()
        .first();
      if (!current) return undefined;
      await this.refuseTakenUserName(trx, fields.userName, id);
      if (email !== current.email) {
        // Grants name people by email (user:EMAIL); moving them is not done yet, and a silent
        // change would cut the person off from everything they were granted.
        throw new ProvisioningRefusal(
          "mutability",
          `Changing a person's email (${current.email} to ${email}) is not supported; keep the email, or deprovision and provision them again.`,
        );
      }
      const [row] = (await trx("users")
        .where({ id })
        .update({
          scim_user_name: fields.userName,
          scim_external_id: fields.externalId,
          display_name: fields.displayName,
          given_name: fields.givenName,
          family_name: fields.familyName,
          is_active: fields.active,
          updated_at: trx.fn.now(),
        })
        .returning("*")) as UserRow[];
      return { before: toProvisioned(current), after: toProvisioned(row as UserRow) };
    });
  }

  /** The provider deleted the person: refused everywhere, no longer its resource. */
  async deleteProvisioned(id: string): Promise<ProvisionedUser | undefined> {
    const [row] = (await this.knex("users")
      .where({ id })
      .whereNull("scim_deleted_at")
      .update({
        scim_deleted_at: this.knex.fn.now(),
        is_active: false,
        scim_user_name: null,
        scim_external_id: null,
        updated_at: this.knex.fn.now(),
      })
      .returning("*")) as UserRow[];
    return row && toProvisioned(row);
  }

  private async refuseTakenUserName(trx: Knex, userName: string, self: string | undefined) {
    const taken: UserRow | undefined = await trx("users")
      .whereNull("scim_deleted_at")
      .where((q) =>
        q
          .whereRaw("lower(scim_user_name) = lower(?)", [userName])
          .orWhere((q2) =>
            q2.whereNull("scim_user_name").whereRaw("email = lower(?)", [userName.trim()]),
          ),
      )
      .modify((q) => {
        if (self) q.whereNot({ id: self });
      })
      .first();
    if (
      taken &&
      !(self === undefined && !taken.scim_user_name && sameName(taken.email, userName))
    ) {
      throw conflict(`The userName "${userName}" is taken.`);
    }
  }
}

/** A provisioning change Switchboard will not make, with SCIM's word for why. */
export class ProvisioningRefusal extends Error {
  constructor(
    readonly scimType: "mutability" | "invalidValue",
    message: string,
  ) {
    super(message);
    this.name = "ProvisioningRefusal";
  }
}
