import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BotConnectorDouble } from "../../test/doubles/bot-connector.js";
import { EntraTokenDouble } from "../../test/doubles/entra-token.js";
import { BotTokens } from "./bot-token.js";
import { BotConnectorError, type TeamsTarget } from "./teams-deps.js";
import { TeamsSurface } from "./teams-surface.js";
import { TeamsTyping, TYPING_SHOWN_MS } from "./teams-typing.js";

const APP = { tenantId: "tenant-typing", appId: "app-typing", appPassword: "pw-typing-secret" };
let entra: EntraTokenDouble;
let connector: BotConnectorDouble;
let surface: TeamsSurface;

const chat = (id: string): TeamsTarget => ({
  serviceUrl: connector.serviceUrl,
  conversationId: id,
  personal: false,
});

beforeAll(async () => {
  entra = await EntraTokenDouble.start(APP);
  connector = await BotConnectorDouble.start(entra, [], APP.tenantId);
  surface = new TeamsSurface({ tokens: new BotTokens({ ...APP, tokenUrl: entra.tokenUrl }) });
});
afterAll(async () => {
  await Promise.all([connector.close(), entra.close()]);
});

describe("the bot typing in a Teams chat", () => {
  it("posts a typing activity to the conversation, once while Teams still shows it", async () => {
    let now = 1_000_000;
    const typing = new TeamsTyping(surface, () => now);
    await typing.show(chat("19:one@thread.v2"));
    await typing.show(chat("19:one@thread.v2"));
    await typing.show(chat("19:two@thread.v2"));
    now += TYPING_SHOWN_MS;
    await typing.show(chat("19:one@thread.v2"));
    expect(connector.typing().map((call) => [call.conversationId, call.activity])).toEqual([
      ["19:one@thread.v2", { type: "typing" }],
      ["19:two@thread.v2", { type: "typing" }],
      ["19:one@thread.v2", { type: "typing" }],
    ]);
    connector.verify();
  });

  it("fails with the connector's status alone: the bearer token is in no log line", async () => {
    connector.refuseTyping(1, 429);
    const typing = new TeamsTyping(surface);
    const failure = await typing.show(chat("19:throttled@thread.v2")).catch((error) => error);
    expect(failure).toBeInstanceOf(BotConnectorError);
    expect(failure.status).toBe(429);
    expect(failure.message).toBe(
      "the Bot Connector answered 429 (Throttled): POST /teams/v3/conversations/19:throttled@thread.v2/activities",
    );
    let logged = "";
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged += String(chunk);
        done();
      },
    });
    pino(sink).info({ err: failure }, "could not show a sign of life on a message");
    expect(logged).toContain("answered 429");
    for (const token of entra.issued) expect(logged).not.toContain(token);
    expect(logged).not.toMatch(/Bearer|authorization/i);
    // Throttled once: the next message in that chat a moment later does not ask again.
    await typing.show(chat("19:throttled@thread.v2"));
    expect(connector.typing("19:throttled@thread.v2")).toHaveLength(1);
  });

  it("says the connector could not be reached, without the token, when nothing answers", async () => {
    const typing = new TeamsTyping(surface);
    const failure = await typing
      .show({ serviceUrl: "http://127.0.0.1:9/teams/", conversationId: "19:x", personal: false })
      .catch((error) => error);
    expect(failure).toBeInstanceOf(BotConnectorError);
    expect(failure.message).toMatch(/^the Bot Connector could not be reached \(ECONNREFUSED\)/);
    expect(JSON.stringify({ ...failure, message: failure.message })).not.toMatch(/Bearer/);
  });
});
