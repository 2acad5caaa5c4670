import type { User, UserDirectory } from "../../../authz/index.js";
import { OidcRefusal } from "./oidc-refusal.js";

/** Who an issuer's token names: its issuer, subject, email and display name. */
export interface OidcPersonClaims {
  issuer: string;
  subject: string;
  email: string;
  name?: string | undefined;
}

export const DEACTIVATED_MESSAGE =
  "Your Switchboard account is deactivated, so you cannot sign in. Ask your administrator.";

/**
 * The email (and name) an issuer vouches for in a token's claims (or UserInfo): the key that
 * makes the issuer's person a Switchboard user. Missing or unverified: refused, in words.
 */
export function emailClaim(
  issuerName: string,
  profile: Record<string, unknown>,
): { email: string; name?: string } {
  const email = profile.email;
  if (typeof email !== "string" || email.trim() === "") {
    throw new OidcRefusal(
      `${issuerName} did not share your email address, which Switchboard needs to know who you are. Ask your administrator to let Switchboard read the email claim.`,
      403,
    );
  }
  // Absent means the issuer vouches for every address it hands out; false (or "false") means not this one.
  const verified = profile.email_verified;
  if (verified === false || verified === "false") {
    throw new OidcRefusal(
      `Your email address at ${issuerName} is not verified, so Switchboard cannot sign you in with it. Verify it there, then try again.`,
      403,
    );
  }
  const name =
    typeof profile.name === "string" && profile.name.trim() ? profile.name.trim() : undefined;
  return { email, ...(name ? { name } : {}) };
}

/**
 * The Switchboard user an issuer's person is. Signing in to the site makes them on first
 * sight and links the issuer's subject to them; a bearer token (`signIn: false`) only finds
 * them, so an API call never creates people. A deactivated person is refused either way.
 */
export async function oidcPerson(
  users: UserDirectory,
  claims: OidcPersonClaims,
  options: { signIn: boolean; issuerName: string },
): Promise<User> {
  const user = options.signIn
    ? await users.ensureUser(claims.email, claims.name)
    : await users.findByEmail(claims.email);
  if (!user) {
    throw new OidcRefusal(
      `No Switchboard account has the email ${claims.email}. Sign in to the Switchboard site once with ${options.issuerName} (or ask your administrator to add you), then try again.`,
      401,
    );
  }
  if (options.signIn) {
    await users.linkIdentity(
      { provider: "oidc", tenant: claims.issuer, externalId: claims.subject },
      user.id,
    );
  }
  if (!user.isActive) throw new OidcRefusal(DEACTIVATED_MESSAGE, 403);
  return user;
}
