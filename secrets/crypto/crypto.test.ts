import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newDataKey, open, SealError, seal } from "./envelope.js";
import { KEY_FILE, keyFileEntries } from "./key-file.js";
import { KeyUnavailableError, KeyWrappers } from "./key-wrapper.js";
import { LocalKeyring, parseKeyring } from "./keyring.js";

const key = () => randomBytes(32).toString("base64");

describe("envelope encryption (AES-256-GCM)", () => {
  const dataKey = newDataKey();
  const box = seal(dataKey, Buffer.from("hunter2-but-longer"), "secret-value:a:v1");

  it("opens what it sealed, and the box does not hold the value in the clear", () => {
    expect(open(dataKey, box, "secret-value:a:v1").toString()).toBe("hunter2-but-longer");
    expect(box.includes(Buffer.from("hunter2"))).toBe(false);
  });

  it("refuses a box with any byte changed, never answering garbage", () => {
    for (const index of [0, 12, 20, box.length - 1]) {
      const tampered = Buffer.from(box);
      tampered[index] = (tampered[index] as number) ^ 0x01;
      expect(() => open(dataKey, tampered, "secret-value:a:v1")).toThrow(SealError);
    }
    expect(() => open(dataKey, box.subarray(0, 20), "secret-value:a:v1")).toThrow(SealError);
  });

  it("refuses a box sealed for another secret or version, or under another key", () => {
    expect(() => open(dataKey, box, "secret-value:b:v1")).toThrow(SealError);
    expect(() => open(dataKey, box, "secret-value:a:v2")).toThrow(SealError);
    expect(() => open(newDataKey(), box, "secret-value:a:v1")).toThrow(SealError);
  });
});

describe("the keyring (SECRETS_KEYS)", () => {
  it("reads id:base64 entries, the first being the one that wraps", () => {
    const entries = parseKeyring(`new:${key()}, old:${key()}`);
    expect(entries.map((entry) => entry.id)).toEqual(["new", "old"]);
    expect(new LocalKeyring(entries).currentKeyId).toBe("new");
  });

  it("says what is wrong with a bad keyring without repeating the key", () => {
    const short = randomBytes(16).toString("base64");
    const cases: [string, RegExp][] = [
      ["", /at least one key/],
      [short, /id:base64/],
      [`main:${short}`, /"main" must be 32 bytes in base64 \(make one with: openssl rand/],
      [`main:not base64!!`, /"main" must be 32 bytes/],
      [`a:${key()},a:${key()}`, /"a" is listed twice/],
      [`bad id:${key()}`, /id:base64/],
    ];
    for (const [text, message] of cases) {
      let thrown: Error | undefined;
      try {
        parseKeyring(text);
      } catch (error) {
        thrown = error as Error;
      }
      expect(thrown?.message, text).toMatch(message);
      if (text.includes(short)) expect(thrown?.message).not.toContain(short);
    }
  });

  it("still unwraps data keys wrapped under an older key after a new one goes first", async () => {
    const old = parseKeyring(`old:${key()}`);
    const dataKey = newDataKey();
    const wrapped = await new LocalKeyring(old).wrap(dataKey, "ctx");
    expect(wrapped.keyId).toBe("old");
    const rotated = new LocalKeyring([...parseKeyring(`new:${key()}`), ...old]);
    expect(await rotated.unwrap(wrapped, "ctx")).toEqual(dataKey);
    expect((await rotated.wrap(dataKey, "ctx")).keyId).toBe("new");
  });

  it("says clearly when the key a data key needs is gone or is another key under its id", async () => {
    const wrapped = await new LocalKeyring(parseKeyring(`old:${key()}`)).wrap(newDataKey(), "ctx");
    const without = new LocalKeyring(parseKeyring(`new:${key()}`));
    await expect(without.unwrap(wrapped, "ctx")).rejects.toThrow(KeyUnavailableError);
    await expect(without.unwrap(wrapped, "ctx")).rejects.toThrow(
      /wrapped under the key "old", which this process does not have.*secrets rotate/,
    );
    const impostor = new LocalKeyring(parseKeyring(`old:${key()}`));
    await expect(impostor.unwrap(wrapped, "ctx")).rejects.toThrow(
      /does not unwrap under the key "old"/,
    );
    const combined = new KeyWrappers(without);
    await expect(combined.unwrap(wrapped, "ctx")).rejects.toThrow(/"old"/);
  });

  it("binds a wrapped data key to its secret", async () => {
    const ring = new LocalKeyring(parseKeyring(`k:${key()}`));
    const wrapped = await ring.wrap(newDataKey(), "secret-data-key:a:v1");
    await expect(ring.unwrap(wrapped, "secret-data-key:b:v1")).rejects.toThrow(KeyUnavailableError);
  });
});

describe("the embedded default's key file", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-key-file-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is made on first use, readable by its user only, and the same key afterwards", () => {
    const data = join(dir, "data");
    const first = keyFileEntries(data);
    const path = join(data, KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first).toHaveLength(1);
    expect(keyFileEntries(data)).toEqual(first);
    expect(parseKeyring(readFileSync(path, "utf8").trim())).toEqual(first);
  });

  it("refuses a damaged key file in words, naming the file", () => {
    const data = join(dir, "damaged");
    keyFileEntries(data);
    writeFileSync(join(data, KEY_FILE), "garbage");
    expect(() => keyFileEntries(data)).toThrow(/key file .*secrets\.keys is not valid/);
  });
});
