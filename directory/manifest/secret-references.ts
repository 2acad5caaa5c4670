/**
 * Secrets reach a runtime only by reference, never inline in a manifest: manifests live in
 * git, are shown to everyone who may view the agent and are stored in the database. A
 * setting whose name says it holds a secret must be `{ secret: NAME }` (the secret store)
 * or `{ env: NAME }` (an environment variable of the worker that the operator allows).
 */

const SECRET_NAME = /key|token|secret|password|passwd|credential/i;
const REFERENCE_NAME = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

export interface InlineSecret {
  path: (string | number)[];
  message: string;
}

export function isSecretReference(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const [kind] = keys as [string];
  const name = (value as Record<string, unknown>)[kind];
  return (
    (kind === "env" || kind === "secret") && typeof name === "string" && REFERENCE_NAME.test(name)
  );
}

/**
 * Settings that look like inline secrets: a string under a secret-sounding name (numbers and
 * flags such as `max_tokens: 1000` are fine), anywhere in the runtime settings.
 */
export function findInlineSecrets(
  value: unknown,
  path: (string | number)[] = [],
  found: InlineSecret[] = [],
): InlineSecret[] {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) findInlineSecrets(item, [...path, index], found);
    return found;
  }
  if (typeof value !== "object" || value === null) return found;
  for (const [key, child] of Object.entries(value)) {
    if (SECRET_NAME.test(key) && typeof child === "string") {
      found.push({
        path: [...path, key],
        message: "looks like an inline secret; give it as { env: NAME } or { secret: NAME }",
      });
    } else if (!isSecretReference(child)) {
      findInlineSecrets(child, [...path, key], found);
    }
  }
  return found;
}
