import { SwitchboardError } from "../../core/index.js";
import { KeyUnavailableError } from "../crypto/key-wrapper.js";

/** The store is off (PostgreSQL without a key): every use says which setting turns it on. */
export function storeOff(): SwitchboardError {
  return new SwitchboardError(
    "secret_store_off",
    "The secret store is off: set SECRETS_KEYS (comma-separated id:base64 keys, e.g. main:$(openssl rand -base64 32)) or SECRETS_KMS_KEY_ID on every Switchboard process to turn it on.",
    { status: 503 },
  );
}

/**
 * A stored secret that cannot be read: with the keys this process has (500, the operator's
 * to fix), or because the KMS that holds its key could not be reached (503, may pass).
 */
export function unreadable(name: string, error: unknown): SwitchboardError {
  if (error instanceof KeyUnavailableError) {
    return new SwitchboardError(
      "secret_unreadable",
      `The secret "${name}" cannot be read: ${error.message}`,
      { status: 500, cause: error },
    );
  }
  return new SwitchboardError(
    "secret_store_unavailable",
    `The secret "${name}" cannot be read just now: the key service that holds its key did not answer.`,
    { status: 503, cause: error },
  );
}
