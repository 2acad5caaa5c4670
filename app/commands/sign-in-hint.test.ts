import { describe, expect, it } from "vitest";
import type { SignInModes } from "../../directory/index.js";
import { loadConfig } from "../config/index.js";
import { signInHint } from "./sign-in-hint.js";

const oidc = { signIn: { name: "localhost:9998" } } as unknown as SignInModes["oidc"];

describe("the sign-in line serve logs", () => {
  it("names the OIDC button, issuer, client and redirect URI, never the client secret", () => {
    const config = loadConfig(
      {
        PUBLIC_URL: "http://localhost:3000/",
        OIDC_ISSUER_URL: "http://localhost:9998/",
        OIDC_CLIENT_ID: "web",
        OIDC_CLIENT_SECRET: "the-client-secret",
      },
      undefined,
    );
    const hint = signInHint(config, { development: false, oidc }, "http://0.0.0.0:3000");
    expect(hint.level).toBe("info");
    expect(hint.message).toBe(
      'Sign in at http://localhost:3000/sign-in with "Sign in with localhost:9998" (OIDC issuer http://localhost:9998/, client web; register http://localhost:3000/auth/callback there as its redirect URI)',
    );
    expect(JSON.stringify(hint)).not.toContain("the-client-secret");
  });

  it("says the development form takes any email", () => {
    const hint = signInHint(
      loadConfig({}, undefined),
      { development: true },
      "http://127.0.0.1:3000",
    );
    expect(hint.message).toContain("Sign in at http://127.0.0.1:3000/sign-in with any email");
  });

  it("names the SSO proxy's header and the addresses it is believed from", () => {
    const config = loadConfig(
      { AUTH_TRUSTED_HEADER: "x-forwarded-email", AUTH_TRUSTED_PROXIES: "10.0.0.5" },
      undefined,
    );
    const hint = signInHint(
      config,
      { development: false, trustedHeader: { header: "x-forwarded-email", proxies: ["10.0.0.5"] } },
      "http://0.0.0.0:3000",
    );
    expect(hint.message).toContain("x-forwarded-email header (believed only from 10.0.0.5)");
  });

  it("warns, saying what to set, when nobody can sign in", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://db/switchboard" }, undefined);
    const hint = signInHint(config, { development: false }, "http://0.0.0.0:3000");
    expect(hint.level).toBe("warn");
    expect(hint.message).toContain("Nobody can sign in to the site at http://0.0.0.0:3000");
    expect(hint.message).toContain("set OIDC_ISSUER_URL, OIDC_CLIENT_ID and PUBLIC_URL");
  });
});
