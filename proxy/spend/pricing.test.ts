import { calcPrice } from "@pydantic/genai-prices";
import { describe, expect, it } from "vitest";
import { parseProxyConfig } from "../config/load.js";
import { PriceBook } from "./pricing.js";

const deploymentsOf = (entries: object[]) =>
  parseProxyConfig({ model_list: entries }, { env: {} }).deployments;

describe("PriceBook", () => {
  const [gpt, claude, override, unknown] = deploymentsOf([
    { model_name: "a", litellm_params: { model: "openai/gpt-4o" } },
    { model_name: "b", litellm_params: { model: "anthropic/claude-sonnet-4-20250514" } },
    {
      model_name: "c",
      litellm_params: { model: "openai/mine" },
      model_info: { input_cost_per_token: 0.001, output_cost_per_token: 0.002 },
    },
    { model_name: "d", litellm_params: { model: "openai/not-a-real-model-xyz" } },
  ]);

  it("prices as the price package does, for plain and cached input", () => {
    const book = new PriceBook();
    for (const [deployment, model, provider] of [
      [gpt, "gpt-4o", "openai"],
      [claude, "claude-sonnet-4-20250514", "anthropic"],
    ] as const) {
      for (const usage of [
        { inputTokens: 1234, outputTokens: 56, cacheReadTokens: 0, cacheWriteTokens: 0 },
        { inputTokens: 5000, outputTokens: 300, cacheReadTokens: 2000, cacheWriteTokens: 1000 },
      ]) {
        const expected = calcPrice(
          {
            input_tokens: usage.inputTokens,
            output_tokens: usage.outputTokens,
            cache_read_tokens: usage.cacheReadTokens,
            cache_write_tokens: usage.cacheWriteTokens,
          },
          model,
          { providerId: provider },
        )?.total_price;
        expect(book.price(deployment as never, usage).costUsd).toBeCloseTo(expected as number, 12);
      }
    }
  });

  it("uses the config's per-token prices, and says when a model has no price", () => {
    const book = new PriceBook();
    const usage = { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 };
    expect(book.price(override as never, usage)).toEqual({ costUsd: 0.02, priced: true });
    expect(book.price(unknown as never, usage)).toEqual({ costUsd: 0, priced: false });
  });
});
