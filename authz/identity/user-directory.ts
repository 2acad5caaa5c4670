import type { Knex } from "knex";
import { badRequest } from "../../core/index.js";

/** One person: the row behind every Principal. */
export interface User {
  id: string;
  email: string;
  displayName: string | null;
  isActive: boolean;
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
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  isActive: row.is_active,
});

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
}
