import { describe, expect, it } from "vitest";
import { MARKDOWN_MAX_CHARS, renderMarkdown } from "./markdown.js";

const render = (source: string) => renderMarkdown(source).text;

describe("renderMarkdown", () => {
  it("formats headings, lists, emphasis, code blocks and tables", () => {
    const out = render(
      "# Plan\n\n- **first**\n- second\n\n```ts\nconst a = 1 < 2;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    );
    expect(out).toContain("<h1>Plan</h1>");
    expect(out).toContain("<li><strong>first</strong></li>");
    expect(out).toContain('<pre><code class="language-ts">const a = 1 &lt; 2;\n</code></pre>');
    expect(out).toContain("<table>");
    expect(out).toContain("<td>1</td>");
  });

  it("shows raw HTML as text: no script, no img with onerror", () => {
    const out = render(
      '<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\nok <b>x</b>',
    );
    expect(out).not.toMatch(/<script|<img|<b>/i);
    expect(out).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(out).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("refuses javascript:, data:, vbscript: and relative links; they stay as text", () => {
    for (const href of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "java\tscript:alert(1)",
      "data:text/html;base64,PHNjcmlwdD4=",
      "vbscript:msgbox",
      "/admin",
      "//evil.example/x",
    ]) {
      const out = render(`[click](${href})`);
      expect(out, href).not.toContain("<a");
    }
    expect(render("<javascript:alert(1)>")).not.toContain("<a");
  });

  it("shows every link's real address beside its label, with rel and no target", () => {
    const out = render(
      "[Your bank](https://evil.example/login) and [mail us](mailto:help@example.com)",
    );
    expect(out).toContain(
      '<a href="https://evil.example/login" rel="nofollow noopener noreferrer">Your bank</a> (https://evil.example/login)',
    );
    expect(out).toContain('rel="nofollow noopener noreferrer">mail us</a> (help@example.com)');
    expect(out).not.toContain("target=");
  });

  it("shows the real address when the label is another address", () => {
    const out = render("[https://bank.example/login](https://evil.example/login)");
    expect(out).toContain(">https://bank.example/login</a> (https://evil.example/login)");
  });

  it("does not repeat an address that is its own label", () => {
    const out = render("See https://example.com/docs now");
    expect(out).toContain(
      '<a href="https://example.com/docs" rel="nofollow noopener noreferrer">https://example.com/docs</a> now',
    );
  });

  it("never loads images: an external image becomes a link showing its address", () => {
    const out = render("![a cat](https://tracker.example/pixel.png)");
    expect(out).not.toContain("<img");
    expect(out).toContain(
      '<a href="https://tracker.example/pixel.png" rel="nofollow noopener noreferrer">Image: a cat</a> (https://tracker.example/pixel.png)',
    );
    const data = render("![x](data:image/png;base64,iVBORw0KGgo=)");
    expect(data).not.toMatch(/<img|<a /);
  });

  it("removes bidi controls, so an override cannot reverse the text", () => {
    const out = render(
      "Invoice \u202Efdp.exe and **\u2066bold\u2069** [a\u202Eb](https://e.example/\u202Ex)",
    );
    expect(out).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    expect(out).toContain("Invoice fdp.exe");
  });

  it("finishes on nested emphasis bombs, deep nesting and very long input", () => {
    const bomb = `${"*a **b ".repeat(20_000)}${"_".repeat(50_000)}`;
    expect(render(bomb).length).toBeGreaterThan(0);
    const nested = `${"> ".repeat(5_000)}deep\n${"[".repeat(20_000)}x${"](https://e.example)".repeat(20_000)}`;
    expect(render(nested).length).toBeGreaterThan(0);
    const huge = "word ".repeat(100_000);
    const out = render(huge);
    expect(out).toContain("cut: the text is too long to show here");
    expect(out.length).toBeLessThan(MARKDOWN_MAX_CHARS + 1000);
  });
});
