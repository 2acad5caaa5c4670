import { calcPrice } from "@pydantic/genai-prices";
import type { Deployment, ProviderKind } from "../config/deployments.js";
import type { TokenUsage } from "./usage.js";

/** genai-prices' provider ids for ours. */
const PRICE_PROVIDER: Record<ProviderKind, string> = {
  openai: "openai",
  anthropic: "anthropic",
  azure: "azure",
  bedrock: "aws",
};

/** Per-million-token rates, when a model's price is a flat rate card. */
interface RateCard {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  perRequest: number;
}

const RATE_KEYS = new Set([
  "input_mtok",
  "output_mtok",
  "cache_read_mtok",
  "cache_write_mtok",
  "requests_kcount",
]);
/** Prices can change by date (the package's conditional prices): rate cards are re-derived. */
const CARD_TTL_MS = 10 * 60_000;
const PROBE: TokenUsage = {
  inputTokens: 1000,
  outputTokens: 100,
  cacheReadTokens: 200,
  cacheWriteTokens: 50,
};

function linearCost(card: RateCard, usage: TokenUsage): number {
  const plainInput = usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens;
  return (
    (plainInput * card.input +
      usage.cacheReadTokens * card.cacheRead +
      usage.cacheWriteTokens * card.cacheWrite +
      usage.outputTokens * card.output) /
      1e6 +
    card.perRequest / 1000
  );
}

function packagePrice(deployment: Deployment, usage: TokenUsage) {
  try {
    return calcPrice(
      {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cache_read_tokens: usage.cacheReadTokens,
        cache_write_tokens: usage.cacheWriteTokens,
      },
      deployment.upstreamModel,
      { providerId: PRICE_PROVIDER[deployment.provider] },
    );
  } catch {
    return null;
  }
}

/**
 * The cost of calls in USD: the config's per-token override when the deployment has one
 * (self-hosted models, negotiated rates), else the price package's price for the upstream
 * model, else 0 (and `priced: false`, so the ledger row says so). The package's lookup
 * costs 8–18 µs a call, so a flat price is turned into a rate card once per deployment —
 * checked against the package on a probe — and tiered prices are asked for every call.
 */
export class PriceBook {
  private readonly cards = new Map<string, { card: RateCard | null; until: number }>();

  price(deployment: Deployment, usage: TokenUsage): { costUsd: number; priced: boolean } {
    const override = deployment.price;
    if (override) {
      const card: RateCard = {
        input: override.inputPerToken * 1e6,
        output: override.outputPerToken * 1e6,
        cacheRead: (override.cacheReadPerToken ?? override.inputPerToken) * 1e6,
        cacheWrite: (override.cacheWritePerToken ?? override.inputPerToken) * 1e6,
        perRequest: 0,
      };
      return { costUsd: linearCost(card, usage), priced: true };
    }
    if (usage.inputTokens === 0 && usage.outputTokens === 0) return { costUsd: 0, priced: true };
    const now = Date.now();
    let entry = this.cards.get(deployment.id);
    if (!entry || entry.until < now) {
      entry = { card: this.deriveCard(deployment), until: now + CARD_TTL_MS };
      this.cards.set(deployment.id, entry);
    }
    if (entry.card) return { costUsd: linearCost(entry.card, usage), priced: true };
    const result = packagePrice(deployment, usage);
    return result ? { costUsd: result.total_price, priced: true } : { costUsd: 0, priced: false };
  }

  private deriveCard(deployment: Deployment): RateCard | null {
    const probe = packagePrice(deployment, PROBE);
    if (!probe) return null;
    const price = probe.model_price;
    // Units we never report (web searches, audio…) cost nothing here; a tiered rate for one
    // we do report means the price depends on the call's size: no card.
    for (const key of RATE_KEYS) {
      const value = price[key];
      if (value !== undefined && typeof value !== "number") return null;
    }
    const rate = (key: string) => price[key] as number | undefined;
    const input = rate("input_mtok") ?? 0;
    const card: RateCard = {
      input,
      output: rate("output_mtok") ?? 0,
      cacheRead: rate("cache_read_mtok") ?? input,
      cacheWrite: rate("cache_write_mtok") ?? input,
      perRequest: rate("requests_kcount") ?? 0,
    };
    // Only a card that reproduces the package's own figure is trusted.
    return Math.abs(linearCost(card, PROBE) - probe.total_price) < 1e-12 ? card : null;
  }
}
