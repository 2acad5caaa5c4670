import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HttpAgentDouble } from "../doubles/http-agent.js";
import type { SlackWebApiDouble } from "../doubles/slack-web-api.js";
import { eventually } from "../support/eventually.js";
import { apiRequest, type JsonBody, readJson } from "../support/http.js";
import { SlackHarness } from "../support/slack-harness.js";
import { runSwitchboard } from "../support/switchboard-process.js";

/**
 * Cross-user reads after a rename and a restore. Ada registers `helpdesk`; Bob talks to it
 * by the API and in a Slack thread; Ada retires it; Carol, an ordinary person in another
 * team, registers her own `helpdesk` pointed at her own server, open to everyone. Carol must
 * read nothing of Bob's history, on any surface, and Bob's old conversations must reach
 * neither her server nor Ada's old one. Ada (the original owner) and a platform admin still
 * read the history, and Ada gets her agent back, with its id and history, once the name
 * is free.
 */

const root = mkdtempSync(join(tmpdir(), "switchboard-rename-"));
const env = { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "warn" };
const keys: Record<string, string> = {};
let harness: SlackHarness;
let slack: SlackWebApiDouble;
let adasServer: HttpAgentDouble;
let carolsServer: HttpAgentDouble;
let tsCounter = 0;
const nextTs = () => `1700100${String(++tsCounter).padStart(3, "0")}.000100`;

/** What Bob left behind with Ada's agent. */
const bobs = { runId: "", sessionId: "", thread: "", createdAt: "" };

async function api(who: string, method: string, path: string, body?: unknown) {
  const response = await apiRequest(harness.baseUrl, keys[who] ?? "", method, path, body);
  return { status: response.status, body: await readJson(response).catch(() => ({}) as JsonBody) };
}

/** A page of the site as the person an SSO proxy names. */
async function page(who: string, path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${harness.baseUrl}${path}`, {
    headers: { "x-forwarded-email": `${who}@example.com` },
    redirect: "manual",
  });
  return { status: response.status, text: await response.text() };
}

const bobOnly = { view: ["user:bob@example.com"], run: ["user:bob@example.com"] };
const everyone = { view: ["user:*"], run: ["user:*"] };

/** `who` registers an agent named `helpdesk`, owned by them and answered by `url`. */
function registerHelpdesk(who: string, url: string, access: typeof bobOnly) {
  return api(who, "POST", "/agents", {
    apiVersion: "switchboard/v1",
    kind: "Agent",
    metadata: { name: "helpdesk", title: `${who}'s helpdesk`, owner: `user:${who}@example.com` },
    spec: { runtime: { type: "http", url }, access },
  });
}

async function finished(who: string, runId: string): Promise<JsonBody> {
  return eventually(async () => {
    const { body } = await api(who, "GET", `/runs/${runId}`);
    expect(body.status).toMatch(/succeeded|failed|cancelled/);
    return body;
  }, 30_000);
}

/** The thread's reply once its run has finished (it links to the session on the site). */
function answered(thread: string) {
  return eventually(async () => {
    const call = slack.calls.find(
      (c) =>
        (c.method === "chat.update" || c.args.thread_ts === thread) &&
        JSON.stringify(c.args.blocks ?? "").includes("View on Switchboard"),
    );
    expect(call).toBeDefined();
    return call;
  }, 30_000);
}

beforeAll(async () => {
  [adasServer, carolsServer] = await Promise.all([
    HttpAgentDouble.start({ stream: false }),
    HttpAgentDouble.start({ stream: false }),
  ]);
  // The embedded database serves one process at a time: the CLI's part comes before serve.
  for (const who of ["ada", "bob", "carol", "root"]) {
    const created = await runSwitchboard(["keys", "create", "--user", `${who}@example.com`], env);
    keys[who] = created.stdout.trim().split("\n").at(-1) ?? "";
  }
  // Ada and Carol are ordinary members of two teams; only root is a platform admin.
  for (const [who, team] of [
    ["ada", "team:alpha"],
    ["carol", "team:gamma"],
  ] as const) {
    const granted = await runSwitchboard(
      ["authz", "grant", `${who}@example.com`, "member", team],
      env,
    );
    expect(granted.code, granted.stderr).toBe(0);
  }
  harness = await SlackHarness.start({
    users: [{ id: "UBOB", email: "bob@example.com", name: "Bob" }],
    agents: {},
    env: {
      ...env,
      SWITCHBOARD_ADMINS: "root@example.com",
      RUNTIME_EGRESS_ALLOW: "127.0.0.1",
      AUTH_TRUSTED_HEADER: "x-forwarded-email",
      AUTH_TRUSTED_PROXIES: "127.0.0.1, ::1",
    },
  });
  slack = harness.slack;
}, 240_000);

afterEach(() => {
  const unexpected = [...slack.unexpected];
  slack.reset();
  expect(unexpected, "Slack Web API calls the test did not expect").toEqual([]);
  expect([...adasServer.unexpected(), ...carolsServer.unexpected()]).toEqual([]);
});

afterAll(async () => {
  await harness?.close();
  await Promise.all([adasServer?.close(), carolsServer?.close()]);
  rmSync(root, { recursive: true, force: true });
});

describe("history after a retired agent's name is taken", { timeout: 90_000 }, () => {
  it("Carol's agent of a retired agent's name is a new agent", async () => {
    const registered = await registerHelpdesk("ada", adasServer.url, bobOnly);
    expect([registered.status, registered.body.outcome]).toEqual([201, "created"]);
    bobs.createdAt = registered.body.agent.created_at;

    const started = await api("bob", "POST", "/agents/helpdesk/runs", {
      input: "my payroll login is bob / hunter2, why does it fail?",
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect((await finished("bob", started.body.id)).status).toBe("succeeded");
    bobs.runId = started.body.id;
    bobs.sessionId = started.body.session_id;

    slack.allow("assistant.threads.setStatus", "chat.postMessage", "chat.update");
    bobs.thread = nextTs();
    await harness.events.mention("UBOB", "helpdesk my salary slip is wrong", bobs.thread);
    await answered(bobs.thread);

    expect((await api("ada", "DELETE", "/agents/helpdesk")).status).toBe(204);
    const taken = await registerHelpdesk("carol", carolsServer.url, everyone);
    expect([taken.status, taken.body.outcome]).toEqual([201, "created"]);
    expect(taken.body.agent.created_at).not.toBe(bobs.createdAt);
  });

  it("Carol reads none of Bob's runs, sessions or transcripts, by the API or the site", async () => {
    for (const [method, path] of [
      ["GET", `/runs/${bobs.runId}`],
      ["GET", `/runs/${bobs.runId}/events`],
      ["POST", `/runs/${bobs.runId}/cancel`],
      ["GET", `/sessions/${bobs.sessionId}`],
      ["POST", `/sessions/${bobs.sessionId}/close`],
    ] as const) {
      expect((await api("carol", method, path)).status, `${method} ${path}`).toBe(404);
    }
    const listed = await api("carol", "GET", "/sessions?agent=helpdesk");
    expect(listed.body.items).toEqual([]);

    expect((await page("carol", `/sessions/${bobs.sessionId}`)).status).toBe(404);
    const mine = await page("carol", "/sessions");
    expect(mine.text).not.toContain(bobs.sessionId);
    expect(mine.text).not.toContain("hunter2");
    // Her agent's use counts its own runs, none of the old agent's.
    const catalog = await page("carol", "/");
    const card =
      /<li class="card agent-card">(?:(?!<\/li>)[\s\S])*?\/agents\/helpdesk[\s\S]*?<\/li>/.exec(
        catalog.text,
      )?.[0];
    expect(card).toContain("no runs");
  });

  it("Bob's old session and thread go to neither agent, and he is told why", async () => {
    const [adaTurns, carolTurns] = [adasServer.turns().length, carolsServer.turns().length];
    const continued = await api("bob", "POST", "/agents/helpdesk/runs", {
      input: "and my bank details are 12-34-56",
      session_id: bobs.sessionId,
    });
    expect([continued.status, continued.body.error.code]).toEqual([409, "agent_retired"]);
    expect(continued.body.error.message).toMatch(
      /was with "helpdesk", which has been retired, so it cannot be continued/,
    );

    slack.allow("chat.postMessage");
    await harness.events.message("UBOB", "also my bank details are 12-34-56", nextTs(), {
      thread_ts: bobs.thread,
    });
    await harness.events.mention("UBOB", "helpdesk are you there?", nextTs(), {
      thread_ts: bobs.thread,
    });
    const refusals = await eventually(async () => {
      const posted = slack
        .callsOf("chat.postMessage")
        .filter((call) => call.args.thread_ts === bobs.thread);
      expect(posted).toHaveLength(2);
      return posted;
    });
    for (const refusal of refusals) {
      expect(refusal.args.text).toMatch(
        /"helpdesk" this conversation was with has been retired, so the conversation cannot be continued/,
      );
    }
    const own = await page("bob", `/sessions/${bobs.sessionId}`);
    expect(own.status).toBe(200);
    expect(own.text).toContain("has been retired, so this conversation cannot be continued");
    expect(own.text).not.toContain('name="input"');

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(carolsServer.turns()).toHaveLength(carolTurns);
    expect(carolTurns).toBe(0);
    expect(adasServer.turns()).toHaveLength(adaTurns);
  });

  it("Ada, its original owner, and a platform admin still read the history", async () => {
    for (const who of ["ada", "root", "bob"]) {
      const run = await api(who, "GET", `/runs/${bobs.runId}`);
      expect([who, run.status]).toEqual([who, 200]);
      const session = await api(who, "GET", `/sessions/${bobs.sessionId}`);
      expect([who, session.status, session.body.agent_retired]).toEqual([who, 200, true]);
      expect(JSON.stringify(session.body.transcript)).toContain("hunter2");
    }
    const onSite = await page("ada", `/sessions/${bobs.sessionId}`);
    expect([onSite.status, onSite.text.includes("hunter2")]).toEqual([200, true]);
  });

  it("Ada restores her agent once the name is free, with its id and its history", async () => {
    const blocked = await registerHelpdesk("ada", adasServer.url, bobOnly);
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.message).toMatch(
      /Your retired agent "helpdesk" cannot be restored while another agent has its name/,
    );

    expect((await api("carol", "DELETE", "/agents/helpdesk")).status).toBe(204);
    const restored = await registerHelpdesk("ada", adasServer.url, bobOnly);
    expect([restored.status, restored.body.outcome]).toEqual([201, "restored"]);
    expect(restored.body.agent.created_at).toBe(bobs.createdAt);

    // Bob's session is with a live agent again: it continues, on Ada's server only.
    const adaTurns = adasServer.turns().length;
    const continued = await api("bob", "POST", "/agents/helpdesk/runs", {
      input: "is it fixed now?",
      session_id: bobs.sessionId,
    });
    expect(continued.status, JSON.stringify(continued.body)).toBe(201);
    expect((await finished("bob", continued.body.id)).output).toMatch(/turn 2\b/);
    expect(adasServer.turns()).toHaveLength(adaTurns + 1);
    expect(carolsServer.turns()).toHaveLength(0);
    // Carol's retired agent is hers alone: the restored one gives her nothing of Bob's.
    expect((await api("carol", "GET", `/sessions/${bobs.sessionId}`)).status).toBe(404);
  });
});
