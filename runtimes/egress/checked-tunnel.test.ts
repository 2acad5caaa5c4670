import { request as httpRequest } from "node:http";
import { ProxyAgent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoopbackServer, startLoopbackServer } from "../../test/doubles/loopback-server.js";
import { checkedTunnel } from "./checked-tunnel.js";
import { EgressPolicy } from "./egress-policy.js";

/** The tunnel as an SDK uses it: undici's ProxyAgent with CONNECT, the way the `e2b` SDK does. */

let service: LoopbackServer;

beforeAll(async () => {
  service = await startLoopbackServer((_req, res) => res.end("inside"));
});

afterAll(async () => {
  await service.close();
});

function through(proxy: string, url: string) {
  return undiciFetch(url, { dispatcher: new ProxyAgent({ uri: proxy, proxyTunnel: true }) });
}

describe("checkedTunnel", () => {
  it("tunnels to an address the policy permits", async () => {
    const tunnel = await checkedTunnel(new EgressPolicy({ allowLoopback: true }));
    const response = await through(tunnel.url, `${service.url}/`);
    expect(await response.text()).toBe("inside");
  });

  it("is one tunnel per policy, so SDKs that cache a client per proxy URL keep one", async () => {
    const policy = new EgressPolicy({ allowLoopback: true });
    expect((await checkedTunnel(policy)).url).toBe((await checkedTunnel(policy)).url);
  });

  it("refuses an internal address, and says which host it refused", async () => {
    const tunnel = await checkedTunnel(new EgressPolicy());
    const error = await through(tunnel.url, `${service.url}/`).catch((caught: unknown) => caught);
    const chain: string[] = [];
    for (let at = error; at instanceof Error; at = at.cause) chain.push(at.message);
    expect(chain.join(" / ")).toMatch(/Proxy response \(403\)/);
    expect(tunnel.refusalFor("127.0.0.1")?.message).toMatch(/127\.0\.0\.1 is a private address/);
  });

  it("refuses a public-looking name that resolves inside, naming the host only", async () => {
    const policy = new EgressPolicy({
      resolve: async () => [{ address: "127.0.0.1", family: 4 }],
    });
    const tunnel = await checkedTunnel(policy);
    const url = `http://api.attacker.example:${service.port}/`;
    await expect(through(tunnel.url, url)).rejects.toThrow();
    const refusal = tunnel.refusalFor("api.attacker.example");
    expect(refusal?.message).toMatch(/api\.attacker\.example resolves to a private address/);
    expect(refusal?.message).not.toContain("127.0.0.1");
  });

  it("opens no tunnel for a caller without its credentials", async () => {
    const tunnel = await checkedTunnel(new EgressPolicy({ allowLoopback: true }));
    const { port } = new URL(tunnel.url);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest({
        host: "127.0.0.1",
        port,
        method: "CONNECT",
        path: `127.0.0.1:${service.port}`,
      });
      req.on("connect", (res, socket) => {
        socket.destroy();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(407);
  });
});
