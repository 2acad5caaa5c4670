import { describe, expect, it } from "vitest";
import { eventBodyProblem, formBodyProblem } from "./slack-bodies.js";

/** Signed bodies whose text no field can store: refused before the 200, not failing after it. */
describe("Slack bodies with text no field can store", () => {
  const mention = (text: string) => ({
    type: "event_callback",
    event: { type: "app_mention", user: "U1", channel: "C1", text, ts: "1.2" },
  });

  it("refuses an event with a NUL or half a surrogate pair, naming the field", () => {
    expect(eventBodyProblem(mention("reset\u0000me"))).toBe(
      "the body's event.text contains a NUL character (\\u0000), which no text field takes",
    );
    expect(eventBodyProblem(mention("hi \ud800"))).toMatch(/event\.text contains half of a UTF-16/);
    expect(eventBodyProblem(mention("hi 😀"))).toBeUndefined();
  });

  it("refuses a slash command or a click whose fields carry them", () => {
    const command = new URLSearchParams({ command: "/agents", text: "run\u0000" });
    expect(formBodyProblem(command)).toMatch(/^the form's text contains a NUL/);
    const click = new URLSearchParams({
      payload: JSON.stringify({
        type: "block_actions",
        user: { id: "U1" },
        actions: [{ value: "\udc00" }],
      }),
    });
    expect(formBodyProblem(click)).toMatch(/^the payload's actions\[0\]\.value contains half/);
  });
});
