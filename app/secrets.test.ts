import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config/index.js";
import { secretKeys } from "./secrets.js";

/** Which key-encryption keys each configuration gives the secret store. */

const dir = mkdtempSync(join(tmpdir(), "switchboard-secret-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = `main:${randomBytes(32).toString("base64")}`;
const config = (env: Record<string, string>) =>
  loadConfig({ SWITCHBOARD_DATA_DIR: join(dir, "data"), ...env });

describe("the secret store's keys from the configuration", () => {
  it("makes a key file on the embedded default, and is off on PostgreSQL without a key", () => {
    expect(secretKeys(config({}), "pglite")?.currentKeyId).toMatch(/^local-\d{8}$/);
    expect(secretKeys(config({}), "postgres")).toBeUndefined();
    expect(secretKeys(config({ SECRETS_KEYS: key }), "postgres")?.currentKeyId).toBe("main");
  });

  it("refuses a bad SECRETS_KEYS at start-up, naming it but not the key", () => {
    const short = randomBytes(8).toString("base64");
    let error: unknown;
    try {
      config({ SECRETS_KEYS: `main:${short}` });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/SECRETS_KEYS: key "main" must be 32 bytes/);
    expect((error as Error).message).not.toContain(short);
  });

  it("puts an AWS KMS key first, the local keys still unwrapping, and asks for its settings", () => {
    const kms = {
      SECRETS_KMS_KEY_ID: "alias/switchboard",
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
    };
    const keys = secretKeys(config({ ...kms, SECRETS_KEYS: key }), "postgres");
    expect(keys?.currentKeyId).toBe("aws-kms:alias/switchboard");
    expect(keys?.holds("main")).toBe(true);
    expect(() =>
      secretKeys(config({ SECRETS_KMS_KEY_ID: "alias/switchboard" }), "postgres"),
    ).toThrow(/AWS_REGION: is required with SECRETS_KMS_KEY_ID/);
  });
});
