/**
 * The model gateway: OpenAI- and Anthropic-compatible endpoints, routing from a
 * LiteLLM-style config, virtual keys and limits, spend written to the governance ledger.
 *
 * Its public API is exported from here as it is built.
 */
export {};
