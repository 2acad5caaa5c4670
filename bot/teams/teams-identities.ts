import type { UserDirectory, UserPrincipal } from "../../authz/index.js";

/** Who a Teams member is in Switchboard, or why they cannot be told (words for them). */
export type TeamsPerson = { principal: UserPrincipal } | { refusal: string };

/** The member as the Bot Connector's roster answers (GET v3/conversations/{id}/members/{id}). */
export interface TeamsMemberProfile {
  email?: string | undefined;
  userPrincipalName?: string | undefined;
  name?: string | undefined;
}

const CACHE_MS = 10 * 60_000;

/**
 * Maps a Teams member onto a Switchboard user: by their Entra object id once linked (a
 * `teams` identity; tenant: the Entra tenant), else by the email (or UPN) the conversation's
 * roster gives, linked then. The same person is one user from Teams, Slack or the site, which
 * is what lets one policy govern every path. The identity table's owner is authz's
 * UserDirectory; this only calls it.
 */
export class TeamsIdentities {
  private readonly cache = new Map<string, { person: TeamsPerson; until: number }>();

  constructor(private readonly users: UserDirectory) {}

  async person(
    tenantId: string,
    aadObjectId: string | undefined,
    roster: () => Promise<TeamsMemberProfile>,
  ): Promise<TeamsPerson> {
    if (!aadObjectId) return { refusal: "I only take requests from people in your organisation." };
    const key = `${tenantId}:${aadObjectId}`;
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.person;
    const person = await this.lookUp(tenantId, aadObjectId, roster);
    if ("principal" in person) this.cache.set(key, { person, until: Date.now() + CACHE_MS });
    return person;
  }

  private async lookUp(
    tenantId: string,
    aadObjectId: string,
    roster: () => Promise<TeamsMemberProfile>,
  ): Promise<TeamsPerson> {
    const identity = { provider: "teams" as const, tenant: tenantId, externalId: aadObjectId };
    const known = await this.users.findByIdentity(identity);
    if (known) return known.isActive ? { principal: principalOf(known) } : inactive();
    const member = await roster().catch(() => undefined);
    const email = member?.email || member?.userPrincipalName;
    if (!email?.includes("@")) {
      return {
        refusal:
          "I couldn't read your email address from Teams, so I can't tell who you are in Switchboard.",
      };
    }
    const user = await this.users.ensureUser(email, member?.name || undefined);
    if (!user.isActive) return inactive();
    await this.users.linkIdentity(identity, user.id);
    return { principal: principalOf(user) };
  }
}

function principalOf(user: { id: string; email: string; displayName: string | null }) {
  return {
    kind: "user" as const,
    userId: user.id,
    email: user.email,
    displayName: user.displayName ?? undefined,
    via: "teams" as const,
  };
}

function inactive(): TeamsPerson {
  return { refusal: "Your Switchboard account is deactivated; ask your Switchboard admins." };
}
