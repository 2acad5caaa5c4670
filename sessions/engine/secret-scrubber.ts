import type { SecretResolver } from "../../runtimes/index.js";

/** What a secret value is replaced with in what a run stores and shows. */
export const REDACTED = "[secret]";

/**
 * Values shorter than this are not taken out: they are not secret enough to hide, and
 * replacing every "42" of an answer would garble it.
 */
const MIN_LENGTH = 4;

/**
 * Keeps the secret values a run's resolver handed to its runtime out of everything the run
 * stores and shows (events, output, errors, the runtime handle, logs), in case the agent or
 * the runtime echoes one back: "your key sk-… was refused".
 */
export class SecretScrubber {
  /** Longest first, so a value containing another is replaced whole. */
  private values: string[] = [];

  /** The resolver, noting each value it hands out. */
  watch(resolver: SecretResolver): SecretResolver {
    return async (reference) => {
      const value = await resolver(reference);
      if (value.length >= MIN_LENGTH && !this.values.includes(value)) {
        this.values = [...this.values, value].sort((a, b) => b.length - a.length);
      }
      return value;
    };
  }

  text(text: string): string {
    let result = text;
    for (const value of this.values) {
      if (result.includes(value)) result = result.replaceAll(value, REDACTED);
    }
    return result;
  }

  /** Every string inside a JSON-like value (a tool's input, a handle), scrubbed. */
  deep<T>(value: T): T {
    if (this.values.length === 0) return value;
    if (typeof value === "string") return this.text(value) as T;
    if (Array.isArray(value)) return value.map((item) => this.deep(item)) as T;
    if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [this.text(key), this.deep(item)]),
      ) as T;
    }
    return value;
  }

  /** An error for the logs: its message and stack scrubbed, its type kept. */
  error(error: unknown): unknown {
    if (!(error instanceof Error) || this.values.length === 0) return error;
    return {
      type: error.name,
      message: this.text(error.message),
      stack: this.text(error.stack ?? ""),
    };
  }

  /**
   * A scrubber for streamed text, where a value may arrive split across pieces: the tail of
   * what came so far that could be the start of a value is held back until the next piece
   * says whether it is.
   */
  stream(): { push(piece: string): string; end(): string } {
    let held = "";
    return {
      push: (piece) => {
        const text = this.text(held + piece);
        const keep = this.partialTail(text);
        held = text.slice(text.length - keep);
        return text.slice(0, text.length - keep);
      },
      end: () => {
        const rest = this.text(held);
        held = "";
        return rest;
      },
    };
  }

  /** The length of the longest end of `text` that begins some value without being all of it. */
  private partialTail(text: string): number {
    let longest = 0;
    for (const value of this.values) {
      for (let length = Math.min(value.length - 1, text.length); length > longest; length--) {
        if (text.endsWith(value.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
