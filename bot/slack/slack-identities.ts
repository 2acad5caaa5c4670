import type { webApi } from "@slack/bolt";

type WebClient = webApi.WebClient;

import type { UserDirectory, UserPrincipal } from "../../authz/index.js";

/** Who a Slack user is in Switchboard, or why they cannot be told. */
export type SlackPerson = { principal: UserPrincipal } | { refusal: string };

const CACHE_MS = 10 * 60_000;

/**
 * Maps a Slack user onto a Switchboard user by email (`users.info`), once: the link is
 * stored as a `slack` identity of that user (tenant: the workspace), so later messages
 * skip the Web API. A person is the same user whether they come from Slack, Teams or the
 * site, which is what lets one policy govern every path.
 */
export class SlackIdentities {
  private readonly cache = new Map<string, { person: SlackPerson; until: number }>();

  constructor(private readonly users: UserDirectory) {}

  async person(client: WebClient, teamId: string, slackUserId: string): Promise<SlackPerson> {
    const key = `${teamId}:${slackUserId}`;
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.person;
    const person = await this.lookUp(client, teamId, slackUserId);
    if ("principal" in person) this.cache.set(key, { person, until: Date.now() + CACHE_MS });
    return person;
  }

  private async lookUp(
    client: WebClient,
    teamId: string,
    slackUserId: string,
  ): Promise<SlackPerson> {
    const identity = { provider: "slack" as const, tenant: teamId, externalId: slackUserId };
    const known = await this.users.findByIdentity(identity);
    if (known) return known.isActive ? { principal: principalOf(known) } : inactive();

    const info = await client.users.info({ user: slackUserId });
    const profile = info.user;
    if (!profile || profile.is_bot) return { refusal: "I only take requests from people." };
    const email = profile.profile?.email;
    if (!email) {
      return {
        refusal:
          "I couldn't read your email address from Slack, so I can't tell who you are in Switchboard. (The Slack app needs the `users:read.email` scope.)",
      };
    }
    const user = await this.users.ensureUser(email, profile.real_name || profile.name || undefined);
    if (!user.isActive) return inactive();
    await this.users.linkIdentity(identity, user.id);
    return { principal: principalOf(user) };
  }
}

function principalOf(user: {
  id: string;
  email: string;
  displayName: string | null;
}): UserPrincipal {
  return {
    kind: "user",
    userId: user.id,
    email: user.email,
    displayName: user.displayName ?? undefined,
    via: "slack",
  };
}

function inactive(): SlackPerson {
  return { refusal: "Your Switchboard account is deactivated; ask your Switchboard admins." };
}
