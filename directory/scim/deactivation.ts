import type { User } from "../../authz/index.js";
import type { AuditLog } from "../../governance/index.js";
import type { ApiKeys } from "../keys/api-keys.js";
import type { TeamMemberships } from "../registry/index.js";
import type { SiteSessions } from "../site/index.js";

/**
 * What a person loses the moment they are deactivated (or deleted) by the identity
 * provider: their site sessions end, their API keys are revoked, and they leave every team
 * (the `team:SLUG#member` and `admin` tuples go). Every surface already refuses a person whose
 * row is inactive (site sessions, API keys, Slack, runs); this takes away what would outlive
 * a reactivation. Reactivating restores the person, not these.
 */
export class Deactivation {
  constructor(
    private readonly parts: {
      siteSessions: SiteSessions;
      keys: ApiKeys;
      memberships: TeamMemberships;
      audit: AuditLog;
    },
  ) {}

  async apply(user: Pick<User, "id" | "email">, actor: string): Promise<void> {
    const { siteSessions, keys, memberships, audit } = this.parts;
    const sessions = await siteSessions.revokeUser(user.email, actor);
    const revokedKeys = await keys.revokeAllOf(user.id, actor);
    const teams = await memberships.removeEverywhere({ userId: user.id, email: user.email });
    await audit.record({
      actor,
      action: "user.deactivated",
      targetType: "user",
      targetId: user.email,
      details: { sessions, keys: revokedKeys, teams },
    });
  }
}
