import { z } from "zod";
import type { SecretResolver } from "./runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "./runtime-error.js";

/**
 * A secret in runtime settings: a reference, never the value (manifests are shown to
 * everyone who may view the agent). `{ secret: NAME }` is a secret in Switchboard's secret
 * store that its owner granted to the agent; `{ env: NAME }` is an environment variable of
 * the worker, and only one the operator named in RUNTIME_ENV_ALLOWLIST.
 */
export const secretReference = z.union([
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ secret: z.string().min(1) }),
]);
export type SecretReference = z.output<typeof secretReference>;

/** The reference as a manifest writes it: `{ env: NAME }`, `{ secret: NAME }`. */
export function describeReference(reference: SecretReference): string {
  return "env" in reference ? `{ env: ${reference.env} }` : `{ secret: ${reference.secret} }`;
}

/**
 * The one answer for a reference that does not resolve. It is the same whether the variable
 * is unset or not allowed, the secret does not exist or is not granted: an agent's owner
 * learns nothing about what else the worker or the store holds.
 */
export function secretUnavailable(reference: SecretReference): RuntimeError {
  return new RuntimeError(
    RUNTIME_ERROR_CODES.missingSecret,
    `This agent's settings refer to ${describeReference(reference)}, which is not available to this agent. Keep the value in Switchboard's secret store and have its owner grant it to the agent, or ask the operator to allow the environment name.`,
  );
}

/** Parses a reference from settings; anything else is a clear, non-retryable error. */
export function parseReference(reference: unknown): SecretReference {
  const parsed = secretReference.safeParse(reference);
  if (parsed.success) return parsed.data;
  throw new RuntimeError(
    RUNTIME_ERROR_CODES.missingSecret,
    "A secret setting must be { env: NAME } or { secret: NAME }.",
  );
}

/**
 * Resolves `{ env: NAME }` for names in `allowlist` only, from `env`; `{ secret: NAME }`
 * is not available here (the secret store's resolver handles it, see secrets/).
 */
export function allowedEnvironment(
  env: NodeJS.ProcessEnv,
  allowlist: readonly string[],
): SecretResolver {
  const allowed = new Set(allowlist);
  return async (raw) => {
    const reference = parseReference(raw);
    if (!("env" in reference) || !allowed.has(reference.env)) {
      throw secretUnavailable(reference);
    }
    const value = env[reference.env];
    if (value === undefined || value === "") throw secretUnavailable(reference);
    return value;
  };
}

/** An `{ env: NAME }` reference found in settings, with where it is. */
export interface EnvironmentReference {
  path: (string | number)[];
  name: string;
}

/** Every `{ env: NAME }` anywhere in the settings: what RUNTIME_ENV_ALLOWLIST must name. */
export function environmentReferences(
  value: unknown,
  path: (string | number)[] = [],
  found: EnvironmentReference[] = [],
): EnvironmentReference[] {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      environmentReferences(item, [...path, index], found);
    });
    return found;
  }
  if (typeof value !== "object" || value === null) return found;
  const parsed = secretReference.safeParse(value);
  if (parsed.success) {
    if ("env" in parsed.data) found.push({ path, name: parsed.data.env });
    return found;
  }
  for (const [key, child] of Object.entries(value)) {
    environmentReferences(child, [...path, key], found);
  }
  return found;
}
