import { ProxyError } from "../errors.js";
import { MinuteCounters } from "./minute-counter.js";
import type { VirtualKey } from "./virtual-keys.js";

/**
 * Decides, before anything is sent upstream, whether a key may make this call: not revoked
 * or expired, the model allowed, under its rpm and tpm, within its budget. Counts live in
 * this process (each proxy process enforces its own share; spend is shared through the
 * ledger).
 */
export class KeyAdmission {
  private readonly requests = new MinuteCounters();
  private readonly tokens = new MinuteCounters();

  /** Revoked or expired keys are refused everywhere, model list included. */
  assertUsable(key: VirtualKey, now = Date.now()): void {
    if (key.revoked) throw new ProxyError("invalid_key", "This API key has been revoked.");
    if (key.expiresAt !== null && key.expiresAt <= now) {
      throw new ProxyError("invalid_key", "This API key has expired.");
    }
  }

  admit(key: VirtualKey, modelName: string, now = Date.now()): void {
    this.assertUsable(key, now);
    if (key.id === null) return;
    if (key.allowedModels && !key.allowedModels.includes(modelName)) {
      throw new ProxyError("model_not_allowed", `This API key may not call model "${modelName}".`);
    }
    if (key.budgetUsd !== null && key.spentUsd >= key.budgetUsd) {
      throw new ProxyError(
        "budget_exceeded",
        `Budget exceeded: this key has spent $${key.spentUsd.toFixed(4)} of its $${key.budgetUsd.toFixed(2)} budget.`,
      );
    }
    if (key.budgetBlocked) throw new ProxyError("budget_exceeded", key.budgetBlocked);
    if (key.rpmLimit !== null) {
      const counter = this.requests.get(key.id);
      if (counter.value(now) >= key.rpmLimit) {
        throw new ProxyError(
          "rate_limited",
          `Rate limit reached: this key allows ${key.rpmLimit} requests per minute.`,
        );
      }
      counter.add(1, now);
    }
    if (key.tpmLimit !== null && this.tokens.get(key.id).value(now) >= key.tpmLimit) {
      throw new ProxyError(
        "rate_limited",
        `Rate limit reached: this key allows ${key.tpmLimit} tokens per minute.`,
      );
    }
  }

  /** Called with the tokens a finished call used. */
  countTokens(key: VirtualKey, tokens: number): void {
    if (key.id !== null && key.tpmLimit !== null) this.tokens.get(key.id).add(tokens);
  }
}
