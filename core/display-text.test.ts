import { describe, expect, it } from "vitest";
import { echoInput, formatUsd, hasBidiControls, withoutBidiControls } from "./display-text.js";

describe("formatUsd", () => {
  it("shows a limit below a cent with its own digits, not as $0.00", () => {
    expect(formatUsd(0.001)).toBe("$0.001");
    expect(formatUsd(0.0042)).toBe("$0.0042");
    expect(formatUsd(0.005)).toBe("$0.005");
  });

  it("shows cents for ordinary sums, and says when an amount is below a hundredth of a cent", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(0.01)).toBe("$0.01");
    expect(formatUsd(2.5)).toBe("$2.50");
    expect(formatUsd(1234.567)).toBe("$1234.57");
    expect(formatUsd(0.00004)).toBe("<$0.0001");
  });
});

describe("echoInput", () => {
  it("repeats short input whole and cuts long input to 100 characters and an ellipsis", () => {
    expect(echoInput("weather")).toBe("weather");
    const echoed = echoInput("a".repeat(5000));
    expect(echoed).toBe(`${"a".repeat(100)}…`);
  });
});

describe("bidi controls", () => {
  it("are removed from names so a right-to-left override cannot reverse a title", () => {
    const title = "Invoice \u202Etxt.exe";
    expect(hasBidiControls(title)).toBe(true);
    expect(withoutBidiControls(title)).toBe("Invoice txt.exe");
    expect(hasBidiControls("Plain title")).toBe(false);
    expect(withoutBidiControls("\u2066a\u2069\u202Ab\u202C")).toBe("ab");
  });
});
