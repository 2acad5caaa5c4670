/**
 * Who is asking. Every entry point (Slack, Teams, the site, the REST API, A2A, MCP, the CLI)
 * turns its caller into a Principal before asking the Authorizer anything.
 */
export type Surface = "slack" | "teams" | "site" | "api" | "a2a" | "mcp" | "cli";

export interface UserPrincipal {
  kind: "user";
  /** Our user id (users.id). */
  userId: string;
  /** Lower-case; the key that joins a person's Slack, Teams and site identities. */
  email: string;
  displayName?: string | undefined;
  via: Surface;
}

/** Switchboard acting on its own behalf (start-up bootstrap, CLI administration). */
export interface SystemPrincipal {
  kind: "system";
  name: string;
}

export type Principal = UserPrincipal | SystemPrincipal;

/** The OpenFGA user for a person: `user:ada@example.com`. */
export function userSubject(email: string): string {
  return `user:${email.trim().toLowerCase()}`;
}

/** The OpenFGA object for an agent: `agent:helpdesk`. */
export function agentObject(name: string): string {
  return `agent:${name}`;
}

/** How the audit log names an actor. */
export function actorOf(principal: Principal): string {
  return principal.kind === "user" ? userSubject(principal.email) : `system:${principal.name}`;
}
