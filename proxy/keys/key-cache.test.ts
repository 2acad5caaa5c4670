import knex from "knex";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ProxyError } from "../errors.js";
import { KeyCache } from "./key-cache.js";

describe("KeyCache", () => {
  it("answers for the master key without a database", () => {
    const cache = new KeyCache({
      knex: undefined,
      logger: pino({ level: "silent" }),
      masterKey: "sk-master",
    });
    expect(cache.resolve("sk-master")).toMatchObject({ id: null, revoked: false });
    expect(cache.resolve("sk-other")).toBeNull();
    cache.close();
  });

  it("says the key cannot be checked (503) when the database is down, rather than failing", async () => {
    const unreachable = knex({
      client: "pg",
      connection: "postgres://postgres@127.0.0.1:1/none",
      acquireConnectionTimeout: 2000,
      pool: { min: 0, max: 1 },
      // knex prints connection errors itself; the test asserts on what the cache makes of them.
      log: { warn() {}, error() {}, deprecate() {}, debug() {} },
    });
    const cache = new KeyCache({
      knex: unreachable,
      logger: pino({ level: "silent" }),
      masterKey: undefined,
    });
    try {
      const error = await Promise.resolve(cache.resolve("sk-sb-whatever")).catch((e) => e);
      expect(error).toBeInstanceOf(ProxyError);
      expect(error).toMatchObject({ code: "key_store_unavailable", status: 503 });
    } finally {
      cache.close();
      await unreachable.destroy();
    }
  });
});
