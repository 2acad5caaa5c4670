import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";
import { closeSiteClients, csrfTokenIn, developmentSignIn, siteRequest } from "./site-client.js";

/**
 * `GET /runs/:id/answer`, the site's rendered answer that the chat panel swaps in when a run
 * ends: only a reader of the run gets it, and what the agent wrote arrives as safe HTML
 * (the demo agent echoes its message, so the message is the hostile answer).
 */
describe("the rendered answer of a run on the site", { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-answer-access-"));
  let server: SwitchboardProcess;
  let base: string;
  let ada: string;
  let grace: string;
  let runId: string;

  const answerOf = (id: string, cookie?: string) =>
    siteRequest(`${base}/runs/${id}/answer`, { headers: cookie ? { cookie } : {} });

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = new SwitchboardProcess(["serve"], {
      SWITCHBOARD_DATA_DIR: join(root, "data"),
      LOG_LEVEL: "warn",
      PORT: String(port),
    });
    await server.waitFor(`${base}/readyz`);
    ada = await developmentSignIn(base, "ada@example.com");
    grace = await developmentSignIn(base, "grace@example.com");
    const page = await siteRequest(`${base}/agents/demo`, { headers: { cookie: ada } });
    // Ada asks through the chat form (as without JavaScript); it lands on the turn.
    const started = await siteRequest(`${base}/agents/demo/chat`, {
      method: "POST",
      headers: { cookie: ada, origin: base },
      form: {
        _csrf: csrfTokenIn(page.text),
        input:
          '<script>alert(1)</script> <img src=x onerror="alert(1)"> [x](javascript:alert(1)) ![p](https://tracker.example/p.png) **done**',
      },
    });
    expect(started.status, started.text).toBe(303);
    runId = /#turn-(.+)$/.exec(started.location)?.[1] ?? "";
    expect(runId).not.toBe("");
    // The demo agent answers at once; wait for its run to settle.
    while (!(await answerOf(runId, ada)).text.includes("You said")) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 60_000);

  afterAll(async () => {
    await closeSiteClients();
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("gives its person the answer as safe HTML: no script, no image, no script link", async () => {
    const answer = await answerOf(runId, ada);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/html/);
    expect(answer.text).toContain("<strong>done</strong>");
    expect(answer.text).not.toMatch(/<script|<img|href="javascript/i);
    expect(answer.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(answer.text).toContain("(https://tracker.example/p.png)");
  });

  it("answers another person 404, as for a run that does not exist", async () => {
    const theirs = await answerOf(runId, grace);
    const missing = await answerOf("5b0f7e1e-0000-4000-8000-000000000000", grace);
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(theirs.text).not.toContain("You said");
    expect((await answerOf("not-a-run", ada)).status).toBe(404);
  });

  it("sends a visitor who is not signed in to sign in, without the answer", async () => {
    const anonymous = await answerOf(runId);
    expect([302, 303]).toContain(anonymous.status);
    expect(anonymous.location).toContain("/sign-in");
    expect(anonymous.text).not.toContain("You said");
  });
});
