import { z } from "zod";
import type { SecretResolver } from "./runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "./runtime-error.js";

/**
 * A secret in runtime settings: a reference, never the value (manifests are shown to
 * everyone who may view the agent). `{ env: NAME }` reads the worker's environment;
 * `{ secret: NAME }` is for the secret store, which comes later.
 */
export const secretReference = z.union([
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ secret: z.string().min(1) }),
]);
export type SecretReference = z.output<typeof secretReference>;

/** Resolves references against an environment (the worker's `process.env` by default). */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): SecretResolver {
  return (reference) => {
    const parsed = secretReference.safeParse(reference);
    if (!parsed.success) {
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.missingSecret,
        "A secret setting must be { env: NAME } or { secret: NAME }.",
      );
    }
    if ("secret" in parsed.data) {
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.missingSecret,
        `The secret store is not available yet; put ${parsed.data.secret} in the worker's environment and refer to it as { env: ${parsed.data.secret} }.`,
      );
    }
    const value = env[parsed.data.env];
    if (value === undefined || value === "") {
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.missingSecret,
        `The environment variable ${parsed.data.env}, which this agent's settings refer to, is not set on the worker.`,
      );
    }
    return value;
  };
}
