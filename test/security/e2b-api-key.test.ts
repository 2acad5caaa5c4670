import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { E2bRuntime, isRuntimeError } from "../../runtimes/index.js";
import { E2bApiDouble } from "../doubles/e2b-api.js";
import { collectTurn } from "../runtime-contract/collect-turn.js";
import { loopbackEgress } from "../support/egress.js";
import { freePort } from "../support/ports.js";

/**
 * An E2B agent's API key (the account's, able to create and kill every sandbox of it) goes
 * to E2B's API in the `X-API-KEY` header and nowhere else: not into the sandbox (its
 * environment, its create body, envd's requests), not into the turn's handle or events,
 * not into an error, even one whose server text quotes it back.
 */

const KEY = "e2b_security-secret-5d6e7f80a1";
const WRONG = "e2b_not-the-account-key-123456";
const env = { SECURITY_E2B_API_KEY: KEY, SECURITY_E2B_WRONG_KEY: WRONG };

let e2b: E2bApiDouble;
const runtime = new E2bRuntime({ egress: loopbackEgress });

function settings(overrides: Record<string, unknown> = {}) {
  return {
    type: "e2b",
    harness: "command",
    // The harness dumps its whole environment where the test can read it.
    command: ["sh", "-c", 'env > env.txt; echo "$1"', "agent", "{{input}}"],
    api_key: { env: "SECURITY_E2B_API_KEY" },
    api_url: e2b.apiUrl,
    sandbox_url: e2b.sandboxUrl,
    price_per_vcpu_hour_usd: 0.05,
    price_per_gib_hour_usd: 0.01,
    ...overrides,
  };
}

function leaks(outcome: { events: unknown; handle: unknown; error: unknown }, secret: string) {
  const error = outcome.error as Error | undefined;
  return [
    JSON.stringify(outcome.events),
    JSON.stringify(outcome.handle),
    String(error?.message ?? ""),
    JSON.stringify(error ?? null),
    String(error?.stack ?? ""),
  ].filter((text) => text.includes(secret));
}

beforeAll(async () => {
  e2b = await E2bApiDouble.start({ apiKey: KEY });
});
afterEach(() => {
  e2b.failCreates = undefined;
});
afterAll(async () => {
  await e2b.close();
});

describe("the E2B API key", () => {
  it("stays out of the sandbox, its requests to envd, the handle and the events", async () => {
    const outcome = await collectTurn(runtime, settings(), {
      sessionId: randomUUID(),
      input: "hello",
      env,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.text).toContain("hello");
    expect(leaks(outcome, KEY)).toEqual([]);
    const [sandbox] = [...e2b.sandboxes.values()];
    const inside = readFileSync(join(e2b.homeOf(sandbox?.id ?? ""), "env.txt"), "utf8");
    expect(inside).not.toContain(KEY);
    expect(JSON.stringify(e2b.created)).not.toContain(KEY);
    expect(e2b.envdHeaders.length).toBeGreaterThan(0);
    expect(e2b.envdHeaders.filter((headers) => headers.includes(KEY))).toEqual([]);
    expect(e2b.unexpectedRequests).toEqual([]);
  });

  it("is scrubbed from an error whose server text quotes it", async () => {
    for (const status of [400, 500]) {
      e2b.failCreates = { status, count: 1, message: `quota exceeded for ${KEY}` };
      const outcome = await collectTurn(runtime, settings(), {
        sessionId: randomUUID(),
        input: "hello",
        env,
      });
      expect(isRuntimeError(outcome.error)).toBe(true);
      expect((outcome.error as Error).message).toContain("quota exceeded");
      expect(leaks(outcome, KEY)).toEqual([]);
    }
  });

  it("a key E2B refuses is named in words, never quoted", async () => {
    const outcome = await collectTurn(
      runtime,
      settings({ api_key: { env: "SECURITY_E2B_WRONG_KEY" } }),
      { sessionId: randomUUID(), input: "hello", env },
    );
    expect((outcome.error as Error).message).toMatch(/refused the API key/);
    expect(leaks(outcome, WRONG)).toEqual([]);
    e2b.unexpectedRequests.length = 0;
  });

  it("is not in the error when E2B cannot be reached", async () => {
    const outcome = await collectTurn(
      runtime,
      settings({ api_url: `http://127.0.0.1:${await freePort()}` }),
      { sessionId: randomUUID(), input: "hello", env },
    );
    expect(isRuntimeError(outcome.error) && outcome.error.retryable).toBe(true);
    expect(leaks(outcome, KEY)).toEqual([]);
  });

  it("must be a reference: a manifest carrying the key itself is refused", () => {
    const parsed = runtime.settings.safeParse(settings({ api_key: KEY }));
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("never the value itself");
  });
});
