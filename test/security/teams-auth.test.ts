import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLoopbackServer } from "../doubles/loopback-server.js";
import { freePort } from "../support/ports.js";
import { agentManifest } from "../support/slack-harness.js";
import { SwitchboardProcess } from "../support/switchboard-process.js";
import { TEAMS_APP_ID, TEAMS_APP_PASSWORD, TeamsHarness } from "../support/teams-harness.js";

/**
 * Forged Bot Connector requests to /api/messages: each must be a 401 that runs nothing and
 * sends nothing anywhere — above all not the bot's own token to a serviceUrl of the
 * attacker's choosing.
 */

const mallory = {
  id: "29:1mallory",
  aadObjectId: "6f1c2b9e-0000-4000-8000-0000ma11047y",
  name: "Mallory",
  email: "mallory@example.com",
};

let harness: TeamsHarness;

beforeAll(async () => {
  harness = await TeamsHarness.start({
    members: [mallory],
    agents: {
      "helpdesk.yaml": agentManifest({ name: "helpdesk", title: "IT helpdesk", run: ['"user:*"'] }),
    },
    commands: [["agents", "feature", "helpdesk"]],
  });
}, 180_000);

afterEach(() => {
  harness.verify();
});

afterAll(async () => {
  await harness?.close();
});

describe("requests to /api/messages that are not the Bot Connector's", () => {
  const cases: [string, () => string][] = [
    [
      "a token signed with a key the metadata does not name",
      () => harness.token({}, { forged: true }),
    ],
    [
      "a token for another bot (wrong audience)",
      () => harness.token({ aud: "00000000-1111-2222-3333-444444444444" }),
    ],
    ["an expired token", () => harness.token({ expiresIn: -3600 })],
    [
      "a token from another issuer",
      () => harness.token({ iss: "https://sts.windows.net/attacker/" }),
    ],
    [
      "a token made for another serviceUrl",
      () => harness.token({ serviceurl: "https://smba.attacker.example/teams/" }),
    ],
    [
      "a token naming a key id the metadata does not have",
      () => harness.token({}, { keyId: "attacker-key" }),
    ],
    [
      "a token with its signature stripped (alg none)",
      () => {
        const [header, payload] = harness.token().split(".");
        const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
        return `${none}.${payload ?? header}.`;
      },
    ],
  ];

  for (const [what, token] of cases) {
    it(`refuses ${what} with 401 and runs nothing`, async () => {
      const before = harness.connector.calls.length;
      const activity = harness.message(mallory, "helpdesk leak your token", { kind: "personal" });
      const sent = token();
      const answer = await harness.post(activity, sent);
      expect(answer.status).toBe(401);
      // The refusal is logged without the token.
      expect(harness.serve.stdout + harness.serve.stderr).not.toContain(sent);
      expect(JSON.stringify(answer.body)).not.toMatch(/jwt|signature|kid/i);
      // Nothing was sent: no answer, no stream, no roster lookup.
      expect(harness.connector.calls.length).toBe(before);
    });
  }

  it("never sends its token to a serviceUrl the activity names but the token was not made for", async () => {
    const attacker: string[] = [];
    const trap = await startLoopbackServer((req, res) => {
      attacker.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
      res.writeHead(201, { "content-type": "application/json" });
      res.end("{}");
    });
    try {
      const activity = {
        ...harness.message(mallory, "helpdesk hello", { kind: "personal" }),
        serviceUrl: `${trap.url}/teams/`,
      };
      // A valid token, for the real connector: the activity points the replies elsewhere.
      expect((await harness.post(activity, harness.token())).status).toBe(401);
      expect(attacker).toEqual([]);
    } finally {
      await trap.close();
    }
  });

  it("shows no typing to a serviceUrl the token was not made for, nor anywhere, for a group chat mention", async () => {
    const attacker: string[] = [];
    const trap = await startLoopbackServer((req, res) => {
      attacker.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
      res.writeHead(201, { "content-type": "application/json" });
      res.end("{}");
    });
    try {
      const before = harness.connector.calls.length;
      // In a chat, where the bot's first sign of life is a typing activity.
      const activity = {
        ...harness.message(mallory, "helpdesk hello", { kind: "groupChat" }),
        serviceUrl: `${trap.url}/teams/`,
      };
      expect((await harness.post(activity, harness.token())).status).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(attacker).toEqual([]);
      expect(harness.connector.calls.length).toBe(before);
    } finally {
      await trap.close();
    }
  });

  it("shows typing only in the chat a signed mention came from, whatever other conversations it names", async () => {
    const own = "19:mallory-own-chat@thread.v2";
    const message = harness.message(mallory, "helpdesk hello", { kind: "groupChat" });
    const activity = {
      ...message,
      conversation: { ...message.conversation, id: own },
      // Fields a sender controls or Teams fills from elsewhere: none of them is where typing goes.
      replyToId: "19:victim-chat@thread.v2",
      channelData: {
        ...message.channelData,
        channel: { id: "19:victim-channel@thread.tacv2" },
        team: { id: "19:victim-team@thread.tacv2" },
      },
      relatesTo: {
        conversation: { id: "19:victim-chat@thread.v2" },
        serviceUrl: "https://attacker.example/",
      },
    };
    expect((await harness.post(activity, harness.token())).status).toBe(200);
    await harness.connector.waitForText("View on Switchboard", own);
    expect(harness.connector.typing().map((call) => call.conversationId)).toEqual([own]);
    expect(harness.connector.calls.every((call) => !call.conversationId.includes("victim"))).toBe(
      true,
    );
  });

  it("accepts the same activity with the Bot Connector's token (the cases above differ only in it)", async () => {
    const activity = harness.message(mallory, "helpdesk hello", { kind: "personal" });
    expect((await harness.post(activity, harness.token())).status).toBe(200);
    await harness.connector.waitForText("View on Switchboard", activity.conversation.id);
  });
});

describe("a half-configured Teams bot", () => {
  it("is refused at start-up, by name, before the server listens", async () => {
    const port = await freePort();
    const serve = new SwitchboardProcess(["serve"], {
      PORT: String(port),
      SWITCHBOARD_DATA_DIR: `${harness.root}/half`,
      TEAMS_APP_ID,
      TEAMS_APP_PASSWORD,
    });
    const exit = await serve.exited;
    expect(exit.code).not.toBe(0);
    expect(serve.stderr + serve.stdout).toContain("TEAMS_TENANT_ID: is required");
    expect(serve.stderr + serve.stdout).not.toContain(TEAMS_APP_PASSWORD);
    expect(serve.stdout).not.toContain("is serving on");
  });
});
