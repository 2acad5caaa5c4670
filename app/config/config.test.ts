import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./index.js";

function problemsOf(env: Record<string, string>, file?: string): string {
  try {
    loadConfig(env, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the configuration to be refused");
}

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "switchboard-config-")), "switchboard.yaml");
  writeFileSync(path, text);
  return path;
}

describe("loadConfig", () => {
  it("runs on the embedded defaults with nothing set", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: "127.0.0.1",
      SWITCHBOARD_DATA_DIR: "./.switchboard",
      LOG_LEVEL: "info",
      SWITCHBOARD_ADMINS: [],
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.OPENFGA_API_URL).toBeUndefined();
  });

  it("counts an empty or blank variable as unset", () => {
    const config = loadConfig({ PORT: "", DATABASE_URL: "  ", REDIS_URL: "" });
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  it("names the variable, what is allowed, and what it got", () => {
    expect(problemsOf({ PORT: "70000" })).toContain(
      'PORT: must be a port number from 0 to 65535 (got "70000")',
    );
    expect(problemsOf({ DATABASE_URL: "mysql://db/x" })).toContain(
      'DATABASE_URL: must be a URL starting with postgres:// or postgresql:// (got "mysql://db/x")',
    );
    expect(problemsOf({ SHUTDOWN_TIMEOUT_MS: "-5" })).toContain(
      "SHUTDOWN_TIMEOUT_MS: must be a positive number",
    );
  });

  it("never repeats a secret's value, nor a URL's password, in its message", () => {
    const message = problemsOf({
      DATABASE_URL: "mysql://app:hunter2@db/x",
      REDIS_URL: "redis//:s3cret@cache:6379",
      SECRETS_KEYS: "not-a-keyring",
    });
    expect(message).toContain('(got "mysql://app:***@db/x")');
    expect(message).toContain('(got "redis//:***@cache:6379")');
    expect(message).toMatch(/SECRETS_KEYS: [^\n]*$/m);
    expect(message).not.toMatch(/hunter2|s3cret|not-a-keyring/);
  });

  it("bounds a turn's time limit to 24 hours, as manifests are", () => {
    expect(loadConfig({ RUN_TIMEOUT_SECONDS: "86400" }).RUN_TIMEOUT_SECONDS).toBe(86_400);
    expect(problemsOf({ RUN_TIMEOUT_SECONDS: "3000000" })).toContain(
      'RUN_TIMEOUT_SECONDS: must be a whole number of seconds from 1 to 86400 (24 hours) (got "3000000")',
    );
  });

  it("bounds every wait in milliseconds to what a timer can hold", () => {
    expect(problemsOf({ RUN_RETRY_BACKOFF_MS: "3000000000" })).toContain(
      'RUN_RETRY_BACKOFF_MS: must be at most 2147483647 milliseconds (about 24 days), the longest a timer waits (got "3000000000")',
    );
    expect(loadConfig({ RUN_LEASE_MS: "2147483647" }).RUN_LEASE_MS).toBe(2_147_483_647);
  });

  it("holds a chat reply 15 s unless set, and never under a second", () => {
    expect(loadConfig({}).CHAT_REPLY_HOLD_MS).toBe(15_000);
    expect(loadConfig({ CHAT_REPLY_HOLD_MS: "3000" }).CHAT_REPLY_HOLD_MS).toBe(3_000);
    expect(problemsOf({ CHAT_REPLY_HOLD_MS: "500" })).toContain(
      'CHAT_REPLY_HOLD_MS: must be at least 1000 milliseconds (it is renewed every third of it) (got "500")',
    );
  });

  it("limits runs in progress per person and per agent, 5 and 10 unless set", () => {
    expect(loadConfig({})).toMatchObject({ RUN_MAX_PER_USER: 5, RUN_MAX_PER_AGENT: 10 });
    expect(loadConfig({ RUN_MAX_PER_USER: "2" }).RUN_MAX_PER_USER).toBe(2);
    expect(problemsOf({ RUN_MAX_PER_AGENT: "0" })).toContain(
      'RUN_MAX_PER_AGENT: must be a whole number from 1 to 10000 (got "0")',
    );
  });

  it("reads admins as a lower-cased email list and refuses a bad entry once", () => {
    expect(
      loadConfig({ SWITCHBOARD_ADMINS: "Ada@Example.com, bob@example.com," }).SWITCHBOARD_ADMINS,
    ).toEqual(["ada@example.com", "bob@example.com"]);
    const message = problemsOf({ SWITCHBOARD_ADMINS: "ada@example.com,not-an-email,also bad" });
    expect(message.match(/SWITCHBOARD_ADMINS/g)).toHaveLength(1);
  });

  it("reads a config file, with the environment winning over it", () => {
    const file = configFile("PORT: 8080\nLOG_LEVEL: debug\n");
    const config = loadConfig({ LOG_LEVEL: "warn" }, file);
    expect(config.PORT).toBe(8080);
    expect(config.LOG_LEVEL).toBe("warn");
  });

  it("refuses a config file with an unknown setting, naming it", () => {
    const file = configFile("PORT: 8080\nREDIS_ULR: redis://127.0.0.1\n");
    expect(problemsOf({}, file)).toContain("REDIS_ULR: is not a setting");
  });

  it("refuses a config file it cannot read", () => {
    expect(problemsOf({}, "/nonexistent/switchboard.yaml")).toContain(
      "SWITCHBOARD_CONFIG_FILE: cannot read /nonexistent/switchboard.yaml",
    );
  });

  it("reads the site's sign-in settings", () => {
    const config = loadConfig({
      AUTH_TRUSTED_HEADER: "X-Forwarded-Email",
      AUTH_TRUSTED_PROXIES: "10.0.0.5, ::1",
    });
    expect(config.AUTH_TRUSTED_HEADER).toBe("x-forwarded-email");
    expect(config.AUTH_TRUSTED_PROXIES).toEqual(["10.0.0.5", "::1"]);
    expect(problemsOf({ AUTH_TRUSTED_PROXIES: "10.0.0.5, proxy.internal" })).toContain(
      "AUTH_TRUSTED_PROXIES: must be a comma-separated list of IP addresses",
    );
    expect(problemsOf({ SESSION_SECRET: "short" })).toContain(
      "SESSION_SECRET: must be at least 32 characters",
    );
  });

  it("reads RUNTIME_EGRESS_ALLOW's host names, addresses and ranges, and names a bad entry", () => {
    expect(loadConfig({}).RUNTIME_EGRESS_ALLOW).toEqual([]);
    expect(
      loadConfig({ RUNTIME_EGRESS_ALLOW: " agents.corp.internal, 10.20.0.0/16 ,fd00::/8,,[::1]" })
        .RUNTIME_EGRESS_ALLOW,
    ).toEqual(["agents.corp.internal", "10.20.0.0/16", "fd00::/8", "[::1]"]);
    const message = problemsOf({ RUNTIME_EGRESS_ALLOW: "10.0.0.0/8, 10.0.0.0/33" });
    expect(message).toContain(
      'RUNTIME_EGRESS_ALLOW: "10.0.0.0/33" is not a host name, an IP address or a CIDR range',
    );
  });
});
