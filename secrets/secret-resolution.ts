import type { AccessPolicy } from "../authz/index.js";
import { isSwitchboardError } from "../core/index.js";
import {
  allowedEnvironment,
  parseReference,
  RUNTIME_ERROR_CODES,
  RuntimeError,
  type SecretResolver,
  secretUnavailable,
} from "../runtimes/index.js";
import { secretNameOf, secretObject } from "./secret-names.js";
import type { SecretStore } from "./store/secret-store.js";
import { storeOff } from "./store/store-errors.js";

export interface SecretResolutionOptions {
  store: SecretStore;
  access: AccessPolicy;
  /** What `{ env: NAME }` reads: the worker's environment. */
  env: NodeJS.ProcessEnv;
  /** The only names `{ env: NAME }` may read (RUNTIME_ENV_ALLOWLIST); empty: none. */
  envAllowlist: readonly string[];
}

/**
 * How runtime settings' references become values, for one agent at a time. `{ secret: NAME }`
 * reads the secret store, and only when the secret's owner granted it to this agent: checked
 * in the authorizer at each call, past its caches, so a revoked grant stops the next runtime
 * call. `{ env: NAME }` reads only the environment names the operator allowed.
 *
 * A reference that does not resolve gets one answer (`secretUnavailable`), whether the
 * secret or variable is missing or not this agent's: the agent's owner learns nothing of
 * what else there is.
 */
export function agentSecrets(
  options: SecretResolutionOptions,
): (agent: { name: string }) => SecretResolver {
  const environment = allowedEnvironment(options.env, options.envAllowlist);
  return (agent) => async (raw) => {
    const reference = parseReference(raw);
    if ("env" in reference) return environment(reference);
    const name = secretNameOf(reference.secret);
    if (!name) throw secretUnavailable(reference);
    if (!options.store.enabled) {
      throw new RuntimeError(RUNTIME_ERROR_CODES.missingSecret, storeOff().message);
    }
    let granted: boolean;
    try {
      granted = await options.access.agentCan(agent.name, "used_by", secretObject(name));
    } catch (error) {
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        "Switchboard could not check this agent's access to its secrets just now; it will try again.",
        { retryable: true, cause: error },
      );
    }
    if (!granted) throw secretUnavailable(reference);
    let value: string | undefined;
    try {
      value = await options.store.reveal(name);
    } catch (error) {
      // Granted, so whoever runs the agent may hear why: the operator's keys are wrong or gone.
      if (isSwitchboardError(error) && error.status < 503) {
        throw new RuntimeError(RUNTIME_ERROR_CODES.missingSecret, error.message, { cause: error });
      }
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.unavailable,
        "Switchboard could not read this agent's secrets just now; it will try again.",
        { retryable: true, cause: error },
      );
    }
    if (value === undefined) throw secretUnavailable(reference);
    return value;
  };
}
