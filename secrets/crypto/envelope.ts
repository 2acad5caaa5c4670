import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * AES-256-GCM, the one cipher of the secret store: values under their data key, and data
 * keys under a key-encryption key of the local keyring. A sealed box is `iv | tag | text`.
 * `context` is authenticated but not stored: a box opened with another context (a
 * ciphertext copied onto another secret's row, or another version's) is refused, as is any
 * changed byte.
 */

const ALGORITHM = "aes-256-gcm";
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** A box that does not open: tampered with, another row's, or sealed under another key. */
export class SealError extends Error {
  constructor(
    message = "the ciphertext does not open with this key: it was changed or sealed under another key",
  ) {
    super(message);
    this.name = "SealError";
  }
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function seal(key: Buffer, plaintext: Buffer, context: string): Buffer {
  if (key.length !== KEY_BYTES) throw new Error(`an AES-256 key is ${KEY_BYTES} bytes`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(context, "utf8"));
  const text = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), text]);
}

export function open(key: Buffer, box: Buffer, context: string): Buffer {
  if (key.length !== KEY_BYTES) throw new Error(`an AES-256 key is ${KEY_BYTES} bytes`);
  if (box.length < IV_BYTES + TAG_BYTES) throw new SealError("the ciphertext is too short");
  const decipher = createDecipheriv(ALGORITHM, key, box.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(context, "utf8"));
  decipher.setAuthTag(box.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(box.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new SealError();
  }
}
