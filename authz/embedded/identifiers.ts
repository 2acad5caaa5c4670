/**
 * Parsing of OpenFGA identifiers. An object is `type:id`; a user is an object, a typed
 * wildcard `type:*` (everyone of that type) or a userset `type:id#relation` (everyone who
 * has `relation` on `type:id`). The character rules follow OpenFGA's own validation, so a
 * string the server would refuse is refused here too.
 */

const namePattern = "[^:#@\\s]+";
const idPattern = "[^#:\\s]+";
const userPattern = new RegExp(`^(${namePattern}):(${idPattern})(?:#(${namePattern}))?$`);
const relationPattern = new RegExp(`^${namePattern}$`);

export const wildcardId = "*";

/** A parsed user. `relation` is set for a userset; `wildcard` for `type:*`. */
export interface ParsedUser {
  type: string;
  id: string;
  /** `type:id`, without the userset relation. */
  object: string;
  relation: string | undefined;
  wildcard: boolean;
}

/** Parses a user string, or returns undefined when it is malformed. */
export function parseUser(user: string): ParsedUser | undefined {
  const match = userPattern.exec(user);
  if (!match) return undefined;
  const [, type = "", id = "", relation] = match;
  return { type, id, object: `${type}:${id}`, relation, wildcard: id === wildcardId };
}

/** Parses an object `type:id`; usersets are not objects. */
export function parseObject(object: string): { type: string; id: string } | undefined {
  const parsed = parseUser(object);
  if (!parsed || parsed.relation !== undefined) return undefined;
  return { type: parsed.type, id: parsed.id };
}

export function isValidRelationName(relation: string): boolean {
  return relationPattern.test(relation);
}

/**
 * The type of a user, object or userset string, without validating it. Hot paths use this
 * on identifiers that were validated when they entered the index.
 */
export function typeOf(identifier: string): string {
  const colon = identifier.indexOf(":");
  return colon < 0 ? identifier : identifier.slice(0, colon);
}

/**
 * Splits a stored user into its kind without a regular expression (hot path; the string was
 * validated on the way in).
 */
export function classifyStoredUser(user: string): StoredUser {
  const colon = user.indexOf(":");
  const type = user.slice(0, colon);
  const hash = user.indexOf("#", colon);
  if (hash >= 0) {
    return { kind: "userset", type, object: user.slice(0, hash), relation: user.slice(hash + 1) };
  }
  if (user.length === colon + 2 && user.charCodeAt(colon + 1) === 42 /* "*" */) {
    return { kind: "wildcard", type };
  }
  return { kind: "object", type };
}

export type StoredUser =
  | { kind: "object"; type: string }
  | { kind: "wildcard"; type: string }
  | { kind: "userset"; type: string; object: string; relation: string };

export function wildcardOf(type: string): string {
  return `${type}:${wildcardId}`;
}

export function usersetOf(object: string, relation: string): string {
  return `${object}#${relation}`;
}
