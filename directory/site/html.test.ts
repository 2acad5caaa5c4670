import { describe, expect, it } from "vitest";
import { html, raw, safeHref } from "./html.js";

describe("html", () => {
  it("escapes interpolated text, and leaves nested html and raw markup alone", () => {
    const name = `<script>alert("x")</script> & 'friends'`;
    expect(html`<p title="${name}">${name}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;friends&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;friends&#39;</p>',
    );
    expect(html`<ul>${["a<", "b"].map((x) => html`<li>${x}</li>`)}</ul>`.text).toBe(
      "<ul><li>a&lt;</li><li>b</li></ul>",
    );
    expect(html`${raw("<hr>")}`.text).toBe("<hr>");
  });

  it("drops bidi control characters, so a right-to-left override cannot reverse a title", () => {
    expect(html`<h1>${"Invoice \u202Etxt.exe"}</h1>`.text).toBe("<h1>Invoice txt.exe</h1>");
    expect(html`${"\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069ok"}`.text).toBe("ok");
    // Right-to-left scripts keep their letters; only the invisible controls go.
    expect(html`${"שלום"}`.text).toBe("שלום");
  });

  it("renders nothing for null, undefined and booleans, so conditions read naturally", () => {
    const none = undefined;
    expect(html`[${null}${none}${false}${true}${0}]`.text).toBe("[0]");
  });

  it("keeps only http(s) and mailto links from manifests", () => {
    expect(safeHref("https://wiki.example.com/x")).toBe("https://wiki.example.com/x");
    expect(safeHref("mailto:ada@example.com")).toBe("mailto:ada@example.com");
    expect(safeHref("javascript:alert(1)")).toBe("#");
    expect(safeHref(" JavaScript:alert(1)")).toBe("#");
  });
});
