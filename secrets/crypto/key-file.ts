import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KEY_BYTES } from "./envelope.js";
import { type KeyringEntry, parseKeyring } from "./keyring.js";

/** The key file's name under SWITCHBOARD_DATA_DIR. */
export const KEY_FILE = "secrets.keys";

/**
 * The embedded default's keyring (no DATABASE_URL, no SECRETS_KEYS), so `npm start` needs no
 * configuration: one key made on first use and kept beside the embedded database, readable
 * by its user only (mode 0600). It is in SECRETS_KEYS's format, so moving to configured keys
 * is copying its line first into SECRETS_KEYS.
 */
export function keyFileEntries(dataDir: string): KeyringEntry[] {
  const path = join(dataDir, KEY_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    mkdirSync(dataDir, { recursive: true });
    const id = `local-${new Date().toISOString().slice(0, 10).replaceAll("-", "")}`;
    const line = `${id}:${randomBytes(KEY_BYTES).toString("base64")}\n`;
    try {
      // `wx`: of two processes starting at once, one writes and both read the same key.
      writeFileSync(path, line, { mode: 0o600, flag: "wx" });
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== "EEXIST") throw raced;
    }
    text = readFileSync(path, "utf8");
  }
  try {
    return parseKeyring(text.trim());
  } catch (error) {
    throw new Error(
      `The secret store's key file ${path} is not valid (${(error as Error).message}); restore it from a backup. Without it the stored secrets cannot be read.`,
    );
  }
}
