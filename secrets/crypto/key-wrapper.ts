/** A data key as stored: wrapped under the key-encryption key named by `keyId`. */
export interface WrappedKey {
  keyId: string;
  wrapped: Buffer;
}

/**
 * Wraps and unwraps data keys under key-encryption keys that it keeps to itself: the local
 * keyring (SECRETS_KEYS, or the embedded default's key file) or a KMS. What stays out: the
 * values themselves (they are sealed under the data keys, see envelope.ts) and the
 * database. `context` names the secret a data key belongs to; a wrapper binds it to the
 * wrapped key, so a wrapped key copied onto another secret does not unwrap.
 */
export interface KeyWrapper {
  /** The key new data keys are wrapped under; `secrets rotate` re-wraps the others under it. */
  readonly currentKeyId: string;
  /** Whether it can unwrap a data key wrapped under `keyId`. */
  holds(keyId: string): boolean;
  wrap(dataKey: Buffer, context: string): Promise<WrappedKey>;
  /** Throws `KeyUnavailableError` when the key is not held or does not unwrap it. */
  unwrap(key: WrappedKey, context: string): Promise<Buffer>;
  /** Releases connections (a KMS client's), when the process stops. */
  close?(): Promise<void>;
}

/** A data key that cannot be unwrapped here, in words an operator can act on. */
export class KeyUnavailableError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "KeyUnavailableError";
  }
}

/**
 * Several wrappers as one: the first wraps new data keys, each unwraps its own. This is how a
 * deployment moves from the local keyring to a KMS (or back) without downtime: the new one
 * first, `secrets rotate`, then the old one goes.
 */
export class KeyWrappers implements KeyWrapper {
  private readonly all: readonly KeyWrapper[];

  constructor(first: KeyWrapper, ...others: KeyWrapper[]) {
    this.all = [first, ...others];
  }

  get currentKeyId(): string {
    return (this.all[0] as KeyWrapper).currentKeyId;
  }

  holds(keyId: string): boolean {
    return this.all.some((wrapper) => wrapper.holds(keyId));
  }

  wrap(dataKey: Buffer, context: string): Promise<WrappedKey> {
    return (this.all[0] as KeyWrapper).wrap(dataKey, context);
  }

  async unwrap(key: WrappedKey, context: string): Promise<Buffer> {
    const holder = this.all.find((wrapper) => wrapper.holds(key.keyId));
    if (!holder) throw missingKey(key.keyId);
    return holder.unwrap(key, context);
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((wrapper) => wrapper.close?.()));
  }
}

export function missingKey(keyId: string): KeyUnavailableError {
  return new KeyUnavailableError(
    `its data key is wrapped under the key "${keyId}", which this process does not have. Put that key back (in SECRETS_KEYS, after the first), run \`switchboard secrets rotate\`, and only then remove it.`,
  );
}
