import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../app/db/index.js";
import { BACKENDS, type TestBackend } from "../../governance/testing/test-databases.js";
import { LocalKeyring, parseKeyring } from "../crypto/keyring.js";
import { rotateDataKeys } from "./rotation.js";
import { SecretStore } from "./secret-store.js";

/** One SECRETS_KEYS entry: a new random key under `id`. */
const entry = (id: string) => `${id}:${randomBytes(32).toString("base64")}`;
const keyring = (...entries: string[]) => new LocalKeyring(parseKeyring(entries.join(",")));

describe.each(BACKENDS)("the secret store on %s", (_name, backendOf) => {
  let backend: TestBackend;
  let db: Database;
  const firstKey = entry("first");
  const first = keyring(firstKey);
  let store: SecretStore;

  const create = (name: string, value: string, on = store) =>
    on.create({ name, owner: "user:ada@example.com", description: "", value, actor: "user:ada" });

  beforeAll(async () => {
    backend = backendOf();
    db = await backend.open();
    store = new SecretStore(db.knex, first);
  }, 60_000);
  afterAll(() => backend.close());

  it("keeps a value only encrypted, and gives it back whole", async () => {
    const value = "xoxb-the-real-thing-0123456789 ünïcode";
    const created = await create("slack-token", value);
    expect(created).toMatchObject({ name: "slack-token", version: 1, keyId: "first" });
    expect(await store.reveal("slack-token")).toBe(value);
    const row = await db.knex("secrets").where({ name: "slack-token" }).first();
    const stored = Buffer.concat(
      Object.values(row).map((cell) =>
        Buffer.isBuffer(cell) ? cell : Buffer.from(JSON.stringify(cell)),
      ),
    );
    expect(stored.includes(Buffer.from("xoxb-the-real"))).toBe(false);
    expect(stored.toString("latin1")).not.toContain("real-thing");
  });

  it("refuses a name that is taken, and a second value is a new version", async () => {
    expect(await create("slack-token", "other")).toBeUndefined();
    const updated = await store.update("slack-token", { value: "second", actor: "user:bob" });
    expect(updated).toMatchObject({ version: 2, updatedBy: "user:bob" });
    expect(await store.reveal("slack-token")).toBe("second");
    const described = await store.update("slack-token", { description: "Slack", actor: "x" });
    expect(described).toMatchObject({ version: 2, description: "Slack" });
    expect(await store.reveal("missing")).toBeUndefined();
  });

  it("refuses a value changed in the database, or copied from another secret, rather than answering garbage", async () => {
    await create("one", "value-one-0000");
    await create("two", "value-two-0000");
    const one = await db.knex("secrets").where({ name: "one" }).first();
    const two = await db.knex("secrets").where({ name: "two" }).first();
    await db.knex("secrets").where({ name: "two" }).update({
      ciphertext: one.ciphertext,
      data_key: one.data_key,
    });
    await expect(store.reveal("two")).rejects.toMatchObject({ code: "secret_unreadable" });
    const flipped = Buffer.from(two.ciphertext as Buffer);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    await db.knex("secrets").where({ name: "two" }).update({
      ciphertext: flipped,
      data_key: two.data_key,
    });
    await expect(store.reveal("two")).rejects.toThrow(
      /"two" cannot be read: its stored value was changed/,
    );
    await db
      .knex("secrets")
      .where({ name: "two" })
      .update({ version: 5, ciphertext: two.ciphertext });
    await expect(store.reveal("two")).rejects.toMatchObject({ code: "secret_unreadable" });
    await db.knex("secrets").where({ name: "two" }).update({ version: 1 });
    expect(await store.reveal("two")).toBe("value-two-0000");
  });

  it("rotates: a new key goes first, every data key is re-wrapped, old values still read", async () => {
    const before = await db.knex("secrets").count<{ count: string }[]>("* as count");
    const total = Number(before[0]?.count);
    const secondKey = entry("second");
    const second = keyring(secondKey);
    const both = keyring(secondKey, firstKey);
    const rotating = new SecretStore(db.knex, both);
    await create("made-during-rotation", "fresh-value", rotating);
    const batches: number[] = [];
    const report = await rotateDataKeys(db.knex, both, {
      batchSize: 2,
      onBatch: (done) => batches.push(done),
    });
    expect(report).toEqual({ currentKeyId: "second", rewrapped: total, failed: [] });
    expect(batches.length).toBeGreaterThan(1);
    expect(await rotateDataKeys(db.knex, both)).toMatchObject({ rewrapped: 0, failed: [] });
    // The old key can go now: every value reads with the new one alone.
    const onlySecond = new SecretStore(db.knex, second);
    expect(await onlySecond.reveal("slack-token")).toBe("second");
    expect(await onlySecond.reveal("made-during-rotation")).toBe("fresh-value");
    const keyIds = await db.knex("secrets").distinct("key_id");
    expect(keyIds).toEqual([{ key_id: "second" }]);
  });

  it("says which key is missing when the old key was dropped before rotating", async () => {
    const lost = new SecretStore(db.knex, keyring(entry("third")));
    await expect(lost.reveal("slack-token")).rejects.toThrow(
      /"slack-token" cannot be read: its data key is wrapped under the key "second", which this process does not have/,
    );
    const report = await rotateDataKeys(db.knex, keyring(entry("fourth")));
    expect(report.rewrapped).toBe(0);
    expect(report.failed.map((entry) => entry.name)).toContain("slack-token");
  });

  it("is off without a key, and says which setting turns it on", async () => {
    const off = new SecretStore(db.knex, undefined);
    expect(off.enabled).toBe(false);
    for (const use of [() => off.find("x"), () => off.reveal("x"), () => create("x", "v", off)]) {
      await expect(use()).rejects.toMatchObject({
        code: "secret_store_off",
        message: expect.stringMatching(/set SECRETS_KEYS/),
      });
    }
  });
});
