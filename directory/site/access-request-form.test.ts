import { describe, expect, it } from "vitest";
import type { AccessRequest } from "../access-requests/index.js";
import { accessRequestForm } from "./access-request-pages.js";

/** What a person who may not run an agent sees of their last request on its page. */
const request = (over: Partial<AccessRequest>): AccessRequest => ({
  id: "0f0e0d0c-0000-4000-8000-000000000001",
  userId: "0f0e0d0c-0000-4000-8000-000000000002",
  requesterEmail: "ada@example.com",
  agentName: "ledger",
  reason: "month <end>",
  status: "pending",
  grantTarget: null,
  decidedBy: null,
  decidedAt: null,
  decisionReason: null,
  createdAt: new Date("2026-12-01T10:00:00Z"),
  ...over,
});

describe("the agent page's access request", () => {
  it("shows a waiting request instead of the form", () => {
    const text = String(accessRequestForm("ledger", request({}), "token"));
    expect(text).toContain("“month &lt;end&gt;”. The owners decide");
    expect(text).not.toContain("<form");
  });

  it("shows the owners' reason for a denial, escaped, above a form to ask again", () => {
    const denied = request({ status: "denied", decisionReason: "ask <b>your</b> manager" });
    const text = String(accessRequestForm("ledger", denied, "token"));
    expect(text).toContain("was denied: “ask &lt;b&gt;your&lt;/b&gt; manager”. You may ask again.");
    expect(text).toContain("<form");
  });

  it("shows only the form to someone who never asked", () => {
    const text = String(accessRequestForm("ledger", undefined, "token"));
    expect(text).not.toContain("denied");
    expect(text).toContain('name="reason"');
  });
});
