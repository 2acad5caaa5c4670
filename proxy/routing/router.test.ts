import { afterEach, describe, expect, it, vi } from "vitest";
import { parseProxyConfig } from "../config/load.js";
import { Router } from "./router.js";

function routerFor(config: Record<string, unknown>) {
  return new Router(parseProxyConfig(config, { env: {} }));
}

const deployment = (modelName: string, id: string, extra: Record<string, unknown> = {}) => ({
  model_name: modelName,
  litellm_params: { model: "openai/gpt-4o", api_base: `http://${id}.invalid/v1`, ...extra },
  model_info: { id },
});

const ids = (router: Router, model: string) =>
  [...router.attempts(model)].map((s) => s.deployment.id);

describe("Router", () => {
  afterEach(() => vi.restoreAllMocks());

  it("tries each deployment of a group before repeating one, then the fallbacks in order", () => {
    const router = routerFor({
      model_list: [
        deployment("a", "a1"),
        deployment("a", "a2"),
        deployment("b", "b1"),
        deployment("c", "c1"),
      ],
      router_settings: {
        routing_strategy: "least-busy",
        num_retries: 2,
        fallbacks: [{ a: ["b", "c"] }],
      },
    });
    expect(ids(router, "a")).toEqual(["a1", "a2", "a1", "b1", "b1", "b1", "c1", "c1", "c1"]);
  });

  it("balances by weight (or rpm) under simple-shuffle", () => {
    const router = routerFor({
      model_list: [
        deployment("a", "light", { weight: 1 }),
        deployment("a", "heavy", { weight: 3 }),
      ],
      router_settings: { num_retries: 0 },
    });
    vi.spyOn(Math, "random").mockReturnValue(0.2);
    expect(ids(router, "a")).toEqual(["light"]);
    vi.spyOn(Math, "random").mockReturnValue(0.3);
    expect(ids(router, "a")).toEqual(["heavy"]);
  });

  it("sends the next call to the least busy deployment", () => {
    const router = routerFor({
      model_list: [deployment("a", "a1"), deployment("a", "a2")],
      router_settings: { routing_strategy: "least-busy", num_retries: 0 },
    });
    const first = router.attempts("a").next().value;
    if (!first) throw new Error("no attempt");
    first.inFlight += 1;
    expect(ids(router, "a")).toEqual(["a2"]);
  });

  it("prefers the lowest latency under latency-based-routing", () => {
    const router = routerFor({
      model_list: [deployment("a", "slow"), deployment("a", "fast")],
      router_settings: { routing_strategy: "latency-based-routing", num_retries: 1 },
    });
    const [slow, fast] = [...router.attempts("a")];
    slow?.recordSuccess(300);
    fast?.recordSuccess(20);
    expect(ids(router, "a")).toEqual(["fast", "slow"]);
  });

  it("skips a deployment at its own rpm", () => {
    const router = routerFor({
      model_list: [deployment("a", "small", { rpm: 1 }), deployment("a", "big")],
      router_settings: { routing_strategy: "least-busy", num_retries: 0 },
    });
    const first = router.attempts("a").next().value;
    first?.requests.add(1);
    expect(ids(router, "a")).toEqual(["big"]);
  });

  it("cools a deployment down after more than allowed_fails failures, then takes it back", () => {
    vi.useFakeTimers();
    try {
      const router = routerFor({
        model_list: [deployment("a", "flaky"), deployment("a", "steady")],
        router_settings: {
          routing_strategy: "least-busy",
          num_retries: 0,
          allowed_fails: 1,
          cooldown_time: 5,
        },
      });
      const flaky = router.attempts("a").next().value;
      if (!flaky) throw new Error("no attempt");
      router.recordFailure(flaky);
      expect(ids(router, "a")).toEqual(["flaky"]);
      router.recordFailure(flaky);
      expect(ids(router, "a")).toEqual(["steady"]);
      vi.advanceTimersByTime(5_001);
      expect(ids(router, "a")).toEqual(["flaky"]);
    } finally {
      vi.useRealTimers();
    }
  });
});
