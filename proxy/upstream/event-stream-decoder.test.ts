import { describe, expect, it } from "vitest";
import { converseStream } from "../../test/doubles/bedrock-wire.js";
import { EventStreamDecoder } from "./event-stream-decoder.js";

describe("EventStreamDecoder", () => {
  const whole = Buffer.concat(converseStream({ pieces: ["Hé", "llo"] }));

  it("decodes messages however the bytes are cut", () => {
    for (const size of [1, 7, 64, whole.length]) {
      const decoder = new EventStreamDecoder();
      const events = [];
      for (let at = 0; at < whole.length; at += size)
        events.push(...decoder.push(whole.subarray(at, at + size)));
      expect(events.map((e) => e.event)).toEqual([
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
      ]);
      expect(JSON.parse(events[1]?.data ?? "").delta.text).toBe("Hé");
    }
  });

  it("reports a corrupt stream instead of misreading it", () => {
    const corrupt = Buffer.from(whole);
    corrupt.writeUInt32BE(12345, 8);
    const events = new EventStreamDecoder().push(corrupt);
    expect(events).toEqual([
      { event: "exception:CorruptStream", data: '{"message":"corrupt event stream"}' },
    ]);
  });
});
