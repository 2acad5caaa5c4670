import { describe, expect, it } from "vitest";
import { scanUsage } from "./usage-scan.js";

describe("scanUsage", () => {
  it("finds the usage object of an answer without parsing the rest", () => {
    const answer = JSON.stringify({
      id: "x",
      choices: [{ message: { content: 'He said "usage": {"prompt_tokens": 999} and left }' } }],
      usage: {
        prompt_tokens: 12,
        completion_tokens: 3,
        prompt_tokens_details: { cached_tokens: 2 },
      },
    });
    expect(scanUsage(answer)).toEqual({
      prompt_tokens: 12,
      completion_tokens: 3,
      prompt_tokens_details: { cached_tokens: 2 },
    });
    expect(scanUsage(`{"usage" : {"input_tokens":5,"note":"a}b\\"c"}}`)).toEqual({
      input_tokens: 5,
      note: 'a}b"c',
    });
  });

  it("reads the bytes of an answer as they came, multi-byte characters included", () => {
    const answer = Buffer.from(
      JSON.stringify({
        choices: [{ message: { content: "naïve “quotes” {😀}" } }],
        usage: { prompt_tokens: 7, completion_tokens: 1, note: "é}" },
      }),
    );
    expect(scanUsage(answer)).toEqual({ prompt_tokens: 7, completion_tokens: 1, note: "é}" });
  });

  it("returns undefined when there is no usage object", () => {
    expect(scanUsage('{"id":"x"}')).toBeUndefined();
    expect(scanUsage('{"usage": null}')).toBeUndefined();
    expect(scanUsage('{"usage": {"input_tokens": 5')).toBeUndefined();
  });
});
