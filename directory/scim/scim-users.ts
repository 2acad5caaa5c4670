import type { ProvisionedFields, ProvisionedUser } from "../../authz/index.js";
import { invalidSyntax, invalidValue } from "./scim-errors.js";
import { getAttr } from "./scim-filter.js";

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_TEXT = 1_000;

type Json = Record<string, unknown>;

/** A person as a SCIM User resource. */
export function userResource(user: ProvisionedUser, base: string): Json {
  const name: Json = {};
  if (user.givenName) name.givenName = user.givenName;
  if (user.familyName) name.familyName = user.familyName;
  const formatted = [user.givenName, user.familyName].filter(Boolean).join(" ");
  if (formatted) name.formatted = formatted;
  return {
    schemas: [USER_SCHEMA],
    id: user.id,
    ...(user.externalId ? { externalId: user.externalId } : {}),
    userName: user.userName,
    ...(Object.keys(name).length > 0 ? { name } : {}),
    ...(user.displayName ? { displayName: user.displayName } : {}),
    active: user.isActive,
    emails: [{ value: user.email, type: "work", primary: true }],
    meta: {
      resourceType: "User",
      created: user.createdAt.toISOString(),
      lastModified: user.updatedAt.toISOString(),
      location: `${base}/Users/${user.id}`,
    },
  };
}

function text(value: unknown, what: string): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw invalidValue(`${what} is a string.`);
  if (value.length > MAX_TEXT) throw invalidValue(`${what} is longer than ${MAX_TEXT} characters.`);
  return value;
}

/** SCIM booleans, and Entra's strings ("True", "False"). */
export function booleanOf(value: unknown, what: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) {
    return value.trim().toLowerCase() === "true";
  }
  throw invalidValue(`${what} is true or false.`);
}

/**
 * The person's email: the primary one, else the work one, else the first, else a userName
 * that is an email. Switchboard knows people by email (it joins their Slack, Teams and site
 * identities), so a User without one is refused.
 */
function emailOf(resource: Json, userName: string): string {
  const emails = getAttr(resource, "emails");
  const list = Array.isArray(emails)
    ? emails.filter(
        (e): e is Json => !!e && typeof e === "object" && typeof getAttr(e, "value") === "string",
      )
    : [];
  const pick =
    list.find((e) => getAttr(e, "primary") === true || getAttr(e, "primary") === "True") ??
    list.find((e) => String(getAttr(e, "type") ?? "").toLowerCase() === "work") ??
    list[0];
  const email = pick ? String(getAttr(pick, "value")).trim() : userName.trim();
  if (!EMAIL.test(email) || email.length > MAX_TEXT) {
    throw invalidValue(
      "The User needs an email address (in emails, or as its userName): Switchboard knows people by email.",
    );
  }
  return email;
}

/** What a User resource (from POST or PUT, or after a PATCH) sets on the person. */
export function userFields(body: unknown): ProvisionedFields {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw invalidSyntax("Send a User as a JSON object.");
  }
  const resource = body as Json;
  const userName = text(getAttr(resource, "userName"), "userName");
  if (!userName || userName.trim() === "") throw invalidValue("userName is required.");
  const name = getAttr(resource, "name");
  const givenName = text(getAttr(name, "givenName"), "name.givenName");
  const familyName = text(getAttr(name, "familyName"), "name.familyName");
  const formatted = text(getAttr(name, "formatted"), "name.formatted");
  const displayName =
    text(getAttr(resource, "displayName"), "displayName") ??
    formatted ??
    ([givenName, familyName].filter(Boolean).join(" ") || null);
  const active = getAttr(resource, "active");
  return {
    userName: userName.trim(),
    email: emailOf(resource, userName),
    externalId: text(getAttr(resource, "externalId"), "externalId"),
    displayName,
    givenName,
    familyName,
    active: active === undefined || active === null ? true : booleanOf(active, "active"),
  };
}
