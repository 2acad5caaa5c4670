import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatCompletion } from "./doubles/openai-wire.js";
import { json, UpstreamDouble } from "./doubles/upstream-double.js";
import { freePort } from "./support/ports.js";
import { writeProxyConfig } from "./support/proxy-config.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/** The model proxy as an operator starts it: `switchboard proxy`, and inside `switchboard serve`. */

const dir = mkdtempSync(join(tmpdir(), "switchboard-proxy-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let upstream: UpstreamDouble;
let configFile: string;
beforeAll(async () => {
  upstream = await UpstreamDouble.start("openai");
  configFile = join(dir, "proxy.yaml");
  writeProxyConfig(configFile, upstream.url, { masterKey: "sk-operator" });
});
afterAll(async () => {
  expect(upstream.unexpected).toEqual([]);
  await upstream.close();
});

async function askThroughProxy(port: number): Promise<string | null | undefined> {
  const answered = upstream.expect(
    "POST /v1/chat/completions",
    json(200, chatCompletion({ model: "gpt-4o-mini", content: "pong" })),
  );
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "sk-operator" });
  const completion = await client.chat.completions.create({
    model: "small",
    messages: [{ role: "user", content: "ping" }],
  });
  const request = await answered;
  expect(request.headers.authorization).toBe("Bearer upstream-secret");
  return completion.choices[0]?.message.content;
}

describe("switchboard proxy", { timeout: 120_000 }, () => {
  it("routes the official OpenAI client's call to the configured upstream, then stops cleanly", async () => {
    const port = await freePort();
    const proxy = new SwitchboardProcess(
      ["proxy", "--config", configFile, "--port", String(port)],
      {
        SWITCHBOARD_DATA_DIR: join(dir, "proxy-data"),
        UPSTREAM_KEY: "upstream-secret",
      },
    );
    try {
      await proxy.waitFor(`http://127.0.0.1:${port}/healthz`);
      expect(await askThroughProxy(port)).toBe("pong");
      // Where it listens is said once.
      expect(proxy.stdout.match(/model proxy (listening|is serving) on/g)).toHaveLength(1);
      proxy.signal("SIGTERM");
      expect((await proxy.exited).code).toBe(0);
    } finally {
      await proxy.kill();
    }
  });

  it("refuses a config file it cannot use, naming the problem", async () => {
    const result = await runSwitchboard(["proxy", "--config", join(dir, "missing.yaml")], {
      SWITCHBOARD_DATA_DIR: join(dir, "missing-data"),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing.yaml");
  });

  it("runs inside switchboard serve with --proxy-config", async () => {
    const [port, proxyPort] = [await freePort(), await freePort()];
    const serve = new SwitchboardProcess(
      ["serve", "--proxy-config", configFile, "--proxy-port", String(proxyPort)],
      {
        PORT: String(port),
        SWITCHBOARD_DATA_DIR: join(dir, "serve-data"),
        UPSTREAM_KEY: "upstream-secret",
      },
    );
    try {
      await serve.waitFor(`http://127.0.0.1:${port}/readyz`);
      expect(await askThroughProxy(proxyPort)).toBe("pong");
    } finally {
      await serve.kill();
    }
  });
});
