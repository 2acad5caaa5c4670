import { normalizeEmail } from "../authz/index.js";
import { badRequest } from "../core/index.js";

/** A secret's name: a slug, lower case; references to it may use any case. */
const NAME = /^[a-z][a-z0-9_.-]{0,99}$/;

/** A team's slug, as in agent manifests' `team:SLUG`. */
const TEAM = /^team:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The most a value may hold: enough for a PEM key or a service account's JSON. */
export const MAX_VALUE_BYTES = 16 * 1024;

/** The name as stored (lower case), or undefined when it cannot name a secret. */
export function secretNameOf(name: string): string | undefined {
  const lower = name.trim().toLowerCase();
  return NAME.test(lower) ? lower : undefined;
}

/** The name as stored; a 400 in words when it cannot name a secret. */
export function requireSecretName(name: string): string {
  const normal = secretNameOf(name);
  if (normal) return normal;
  throw badRequest(
    `"${name.slice(0, 100)}" is not a secret name: use a letter, then letters, digits, '_', '.' or '-' (up to 100).`,
  );
}

/** Who may own a secret: `user:EMAIL` (lower case) or `team:SLUG`; a 400 in words otherwise. */
export function requireOwner(owner: string): string {
  const given = owner.trim();
  if (TEAM.test(given)) return given;
  if (given.startsWith("user:")) {
    try {
      return `user:${normalizeEmail(given.slice("user:".length))}`;
    } catch {
      // the message below says what is allowed
    }
  }
  throw badRequest(`The owner must be user:EMAIL or team:SLUG, not "${given.slice(0, 100)}".`);
}

/** A value the store takes: text, not empty, at most MAX_VALUE_BYTES. Never echoed back. */
export function requireValue(value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw badRequest("The value must be a non-empty string.");
  }
  if (Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES) {
    throw badRequest(`The value is longer than ${MAX_VALUE_BYTES} bytes.`);
  }
  return value;
}

/** Whether `name` could name an agent (a slug); anything else names none. */
export function isAgentName(name: string): boolean {
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name);
}

/** The OpenFGA object for a secret: `secret:NAME`. */
export function secretObject(name: string): string {
  return `secret:${name}`;
}
