import { describe, expect, it } from "vitest";
import { EgressRefusedError } from "./egress-refused.js";
import { sameOriginRedirects } from "./same-origin-redirects.js";

interface Sent {
  url: string;
  method: string;
  body: unknown;
  auth: string | null;
}

/** A fetch that answers from a table of paths, recording what was sent. */
function site(routes: Record<string, () => Response>) {
  const sent: Sent[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    sent.push({
      url: url.href,
      method: init?.method ?? "GET",
      body: init?.body,
      auth: headers.get("x-api-key"),
    });
    expect(init?.redirect).toBe("manual");
    const route = routes[url.href];
    return route ? route() : new Response("nothing here", { status: 404 });
  };
  return { fetch, sent };
}

const redirect = (status: number, location: string) => () =>
  new Response(null, { status, headers: { location } });

describe("sameOriginRedirects", () => {
  it("follows a redirect on the same origin, with the headers, and a 303 as a GET", async () => {
    const agent = site({
      "https://agent.example/a": redirect(303, "/b"),
      "https://agent.example/b": () => new Response("done"),
    });
    const response = await sameOriginRedirects(agent.fetch)("https://agent.example/a", {
      method: "POST",
      body: "{}",
      headers: { "x-api-key": "k" },
    });
    expect(await response.text()).toBe("done");
    expect(agent.sent.map(({ url, method, auth }) => [url, method, auth])).toEqual([
      ["https://agent.example/a", "POST", "k"],
      ["https://agent.example/b", "GET", "k"],
    ]);
  });

  it("sends a 307's body again", async () => {
    const agent = site({
      "https://agent.example/a": redirect(307, "https://agent.example/b"),
      "https://agent.example/b": () => new Response("done"),
    });
    await sameOriginRedirects(agent.fetch)("https://agent.example/a", {
      method: "POST",
      body: "x",
    });
    expect(agent.sent[1]).toMatchObject({ method: "POST", body: "x" });
  });

  it("refuses a redirect to another origin, sending nothing there", async () => {
    const agent = site({
      "https://agent.example/a": redirect(302, "https://collector.example/steal"),
      "http://agent.example/b": () => new Response("no"),
    });
    const follow = sameOriginRedirects(agent.fetch);
    await expect(follow("https://agent.example/a")).rejects.toThrow(EgressRefusedError);
    await expect(follow("https://agent.example/a")).rejects.toThrow(
      "redirected to another host, collector.example",
    );
    expect(agent.sent.every((sent) => sent.url === "https://agent.example/a")).toBe(true);
  });

  it("hands back the redirect itself after five hops", async () => {
    const agent = site({ "https://agent.example/loop": redirect(302, "/loop") });
    const response = await sameOriginRedirects(agent.fetch)("https://agent.example/loop");
    expect(response.status).toBe(302);
    expect(agent.sent).toHaveLength(6);
  });
});
