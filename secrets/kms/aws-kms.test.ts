import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/db/index.js";
import { pgliteBackend } from "../../governance/testing/test-databases.js";
import { AwsKmsDouble } from "../../test/doubles/aws-kms.js";
import { freePort } from "../../test/support/ports.js";
import { newDataKey } from "../crypto/envelope.js";
import { KeyUnavailableError, KeyWrappers } from "../crypto/key-wrapper.js";
import { LocalKeyring, parseKeyring } from "../crypto/keyring.js";
import { rotateDataKeys } from "../store/rotation.js";
import { SecretStore } from "../store/secret-store.js";
import { AwsKmsKeyWrapper } from "./aws-kms.js";

/** Data keys wrapped by AWS KMS, against a double of its JSON 1.1 wire API that checks SigV4. */

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG" };
const backend = pgliteBackend();
let db: Database;
let kms: AwsKmsDouble;
const wrapper = (
  keyId: string,
  extra: Partial<ConstructorParameters<typeof AwsKmsKeyWrapper>[0]> = {},
) => new AwsKmsKeyWrapper({ keyId, region: "us-east-1", credentials, endpoint: kms.url, ...extra });

beforeAll(async () => {
  db = await backend.open();
  kms = await AwsKmsDouble.start({
    keys: ["key-a", "key-b", "key-off"],
    credentials,
    region: "us-east-1",
  });
}, 60_000);
afterAll(async () => {
  await kms.close();
  await backend.close();
});

describe("AWS KMS as the key-encryption key", () => {
  it("wraps and unwraps data keys through signed Encrypt and Decrypt calls", async () => {
    const keys = wrapper("key-a");
    const dataKey = newDataKey();
    const wrapped = await keys.wrap(dataKey, "secret-data-key:s1:v1");
    expect(wrapped.keyId).toBe("aws-kms:key-a");
    expect(wrapped.wrapped.includes(dataKey)).toBe(false);
    expect(await keys.unwrap(wrapped, "secret-data-key:s1:v1")).toEqual(dataKey);
    expect(kms.calls).toEqual(["TrentService.Encrypt", "TrentService.Decrypt"]);
    expect(kms.unexpected).toEqual([]);
  });

  it("refuses, in KMS's words, a data key copied onto another secret, a wrong key or a disabled one", async () => {
    const keys = wrapper("key-a");
    const wrapped = await keys.wrap(newDataKey(), "secret-data-key:s1:v1");
    await expect(keys.unwrap(wrapped, "secret-data-key:s2:v1")).rejects.toThrow(
      /AWS KMS refused to unwrap its data key under "key-a" \(InvalidCiphertextException/,
    );
    await expect(
      keys.unwrap({ ...wrapped, keyId: "aws-kms:key-b" }, "secret-data-key:s1:v1"),
    ).rejects.toThrow(/IncorrectKeyException/);
    const off = await wrapper("key-off").wrap(newDataKey(), "c");
    kms.disable("key-off");
    await expect(wrapper("key-off").unwrap(off, "c")).rejects.toBeInstanceOf(KeyUnavailableError);
    await expect(wrapper("no-such-key").wrap(newDataKey(), "c")).rejects.toThrow(
      /NotFoundException/,
    );
  });

  it("is refused with credentials KMS does not know, saying so", async () => {
    const stranger = wrapper("key-a", {
      credentials: { ...credentials, secretAccessKey: "wrong" },
    });
    await expect(stranger.wrap(newDataKey(), "c")).rejects.toThrow(/InvalidSignatureException/);
  });

  it("keeps a store's values, and a secret is unavailable (503) while KMS cannot be reached", async () => {
    const store = new SecretStore(db.knex, wrapper("key-a"));
    await store.create({
      name: "kms-held",
      owner: "user:a@example.com",
      description: "",
      value: "v-123456",
      actor: "t",
    });
    expect(await store.reveal("kms-held")).toBe("v-123456");
    const unreachable = new SecretStore(
      db.knex,
      wrapper("key-a", { endpoint: `http://127.0.0.1:${await freePort()}/`, timeoutMs: 1_000 }),
    );
    await expect(unreachable.reveal("kms-held")).rejects.toMatchObject({
      code: "secret_store_unavailable",
      status: 503,
    });
  });

  it("moves a store from SECRETS_KEYS to KMS with `secrets rotate`, the local key then dropped", async () => {
    const local = new LocalKeyring(parseKeyring(`main:${randomBytes(32).toString("base64")}`));
    await new SecretStore(db.knex, local).create({
      name: "was-local",
      owner: "user:a@example.com",
      description: "",
      value: "local-value-1",
      actor: "t",
    });
    const both = new KeyWrappers(wrapper("key-b"), local);
    const report = await rotateDataKeys(db.knex, both);
    expect(report.currentKeyId).toBe("aws-kms:key-b");
    expect(report.failed).toEqual([]);
    const kmsOnly = new SecretStore(db.knex, wrapper("key-b"));
    expect(await kmsOnly.reveal("was-local")).toBe("local-value-1");
    expect(await kmsOnly.reveal("kms-held")).toBe("v-123456");
    expect(kms.unexpected).toEqual([]);
  });
});
