import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config/index.js";
import { teamsSettings } from "./teams.js";

const APP_ID = "b9cc7986-dd56-4b57-ab7d-9c4e5288b775";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const PASSWORD = "Qx8~s3cret-value-never-shown";

describe("the Teams bot's settings", () => {
  it("leave the bot off when none of them is set", () => {
    expect(teamsSettings(loadConfig({}))).toBeUndefined();
  });

  it("switch it on with all three, with Bot Framework's and Entra's addresses by default", () => {
    const settings = teamsSettings(
      loadConfig({ TEAMS_APP_ID: APP_ID, TEAMS_APP_PASSWORD: PASSWORD, TEAMS_TENANT_ID: TENANT }),
    );
    expect(settings).toEqual({
      appId: APP_ID,
      appPassword: PASSWORD,
      tenantId: TENANT,
      openIdMetadataUrl: "https://login.botframework.com/v1/.well-known/openidconfiguration",
      tokenUrl: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
    });
  });

  it("take other metadata and token addresses (tests, sovereign clouds)", () => {
    const settings = teamsSettings(
      loadConfig({
        TEAMS_APP_ID: APP_ID,
        TEAMS_APP_PASSWORD: PASSWORD,
        TEAMS_TENANT_ID: TENANT,
        TEAMS_OPENID_METADATA_URL: "http://127.0.0.1:9/v1/.well-known/openidconfiguration",
        TEAMS_TOKEN_URL: "http://127.0.0.1:9/token",
      }),
    );
    expect(settings?.openIdMetadataUrl).toBe(
      "http://127.0.0.1:9/v1/.well-known/openidconfiguration",
    );
    expect(settings?.tokenUrl).toBe("http://127.0.0.1:9/token");
  });

  it("refuse a partial configuration, naming what is missing and never the password", () => {
    let refused: unknown;
    try {
      teamsSettings(loadConfig({ TEAMS_APP_ID: APP_ID, TEAMS_APP_PASSWORD: PASSWORD }));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).variables).toEqual(["TEAMS_TENANT_ID"]);
    expect((refused as Error).message).not.toContain(PASSWORD);

    expect(() => teamsSettings(loadConfig({ TEAMS_TENANT_ID: TENANT }))).toThrow(
      /TEAMS_APP_ID: is required[\s\S]*TEAMS_APP_PASSWORD: is required/,
    );
  });

  it("refuse an app id that is not a GUID, without repeating a password put there by mistake", () => {
    expect(() => loadConfig({ TEAMS_APP_ID: "not-a-guid" })).toThrow(
      /TEAMS_APP_ID: must be the bot's Microsoft App ID, a GUID/,
    );
  });

  it("takes a channel's conversation id for approval requests, and refuses anything else by name", () => {
    const id = "19:a1b2c3d4e5@thread.tacv2";
    expect(loadConfig({ TEAMS_APPROVALS_CONVERSATION: id }).TEAMS_APPROVALS_CONVERSATION).toBe(id);
    for (const bad of ["general", "19:abc@thread.tacv2;messageid=1", "a:1personal-chat"]) {
      expect(() => loadConfig({ TEAMS_APPROVALS_CONVERSATION: bad })).toThrow(
        /TEAMS_APPROVALS_CONVERSATION: must be a Teams channel's conversation id/,
      );
    }
  });
});
