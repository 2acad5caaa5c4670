import { KEY_BYTES, open, SealError, seal } from "./envelope.js";
import {
  KeyUnavailableError,
  type KeyWrapper,
  missingKey,
  type WrappedKey,
} from "./key-wrapper.js";

/** One key-encryption key of the local keyring. */
export interface KeyringEntry {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Reads SECRETS_KEYS: comma-separated `id:base64`, each key 32 random bytes (`openssl rand
 * -base64 32`). Throws with what is wrong, never with the key itself.
 */
export function parseKeyring(text: string): KeyringEntry[] {
  const entries: KeyringEntry[] = [];
  const parts = text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new Error("must list at least one key as id:base64");
  for (const [index, part] of parts.entries()) {
    const colon = part.indexOf(":");
    const id = colon > 0 ? part.slice(0, colon) : "";
    const encoded = part.slice(colon + 1);
    const where = `key ${index + 1}`;
    if (!KEY_ID.test(id)) {
      throw new Error(
        `${where} must be id:base64, the id made of letters, digits, '_', '.' or '-' (up to 64)`,
      );
    }
    const key = Buffer.from(encoded, "base64");
    if (key.length !== KEY_BYTES || key.toString("base64") !== encoded.replace(/\s/g, "")) {
      throw new Error(
        `key "${id}" must be ${KEY_BYTES} bytes in base64 (make one with: openssl rand -base64 32)`,
      );
    }
    if (entries.some((entry) => entry.id === id)) throw new Error(`key id "${id}" is listed twice`);
    entries.push({ id, key });
  }
  return entries;
}

/**
 * Key-encryption keys held in this process (from SECRETS_KEYS or the embedded default's key
 * file). The first wraps new data keys; every one unwraps, so a new key goes first, `secrets
 * rotate` re-wraps, and then the old key can be dropped.
 */
export class LocalKeyring implements KeyWrapper {
  private readonly keys: ReadonlyMap<string, Buffer>;
  readonly currentKeyId: string;

  constructor(entries: readonly KeyringEntry[]) {
    const first = entries[0];
    if (!first) throw new Error("a keyring needs at least one key");
    this.currentKeyId = first.id;
    this.keys = new Map(entries.map((entry) => [entry.id, entry.key]));
  }

  holds(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  async wrap(dataKey: Buffer, context: string): Promise<WrappedKey> {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    return { keyId: this.currentKeyId, wrapped: seal(key, dataKey, context) };
  }

  async unwrap(wrapped: WrappedKey, context: string): Promise<Buffer> {
    const key = this.keys.get(wrapped.keyId);
    if (!key) throw missingKey(wrapped.keyId);
    try {
      return open(key, wrapped.wrapped, context);
    } catch (error) {
      if (!(error instanceof SealError)) throw error;
      throw new KeyUnavailableError(
        `its data key does not unwrap under the key "${wrapped.keyId}": the key given under that id is not the one it was wrapped with, or the stored data was changed.`,
        { cause: error },
      );
    }
  }
}
