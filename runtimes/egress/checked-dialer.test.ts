import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkedAgent, checkedFetch } from "./checked-dialer.js";
import { EgressPolicy, type HostResolver } from "./egress-policy.js";
import { EgressRefusedError, egressRefusalIn } from "./egress-refused.js";

/**
 * The dialer against real sockets: an "internal service" on 127.0.0.2 that must never see
 * a connection, and an "agent" on 127.0.0.1 (the policy allows it by address) that may
 * redirect. Host names resolve through resolvers the tests give, so nothing leaves loopback.
 */
interface Listener {
  server: Server;
  port: number;
  connections: number;
  requests: string[];
}

async function listen(host: string, port = 0, redirectTo?: () => string): Promise<Listener> {
  const listener: Listener = { server: createServer(), port: 0, connections: 0, requests: [] };
  listener.server.on("connection", () => listener.connections++);
  listener.server.on("request", (req, res) => {
    listener.requests.push(`${req.method} ${req.url}`);
    const location = redirectTo?.();
    if (location && req.url === "/redirect") res.writeHead(302, { location }).end();
    else res.end(`hello from ${host}`);
  });
  await new Promise<void>((resolve) => listener.server.listen(port, host, resolve));
  listener.port = (listener.server.address() as AddressInfo).port;
  return listener;
}

let agent: Listener;
let internal: Listener;
let redirectTarget = "";
const allowAgent = { allow: ["127.0.0.1"] };

beforeAll(async () => {
  agent = await listen("127.0.0.1", 0, () => redirectTarget);
  // The same port on another loopback address: an answer naming both must pick the right one.
  internal = await listen("127.0.0.2", agent.port);
});
afterEach(() => {
  expect(internal.connections, "connections to the internal service").toBe(0);
  agent.requests.length = 0;
});
afterAll(async () => {
  agent.server.closeAllConnections();
  internal.server.closeAllConnections();
  await Promise.all([agent, internal].map((l) => new Promise((r) => l.server.close(r))));
});

async function refusal(work: Promise<unknown>): Promise<EgressRefusedError> {
  const error = await work.then(
    () => undefined,
    (error: unknown) => error,
  );
  const found = egressRefusalIn(error);
  expect(found, `expected an egress refusal, got ${String(error)}`).toBeInstanceOf(
    EgressRefusedError,
  );
  return found as EgressRefusedError;
}

const resolving =
  (...addresses: string[]): HostResolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }) as const);

describe("the checked dialer", () => {
  it("refuses an internal IP literal before connecting, IPv4-mapped forms included", async () => {
    const dispatcher = checkedAgent(new EgressPolicy(allowAgent));
    try {
      for (const host of ["127.0.0.2", "[::ffff:127.0.0.2]", "[::ffff:7f00:2]"]) {
        const url = `http://${host}:${internal.port}/`;
        const refused = await refusal(request(url, { dispatcher }));
        expect(refused.message).toMatch(/is a private address .* RUNTIME_EGRESS_ALLOW/);
      }
      const ok = await request(`http://127.0.0.1:${agent.port}/`, { dispatcher });
      expect(await ok.body.text()).toBe("hello from 127.0.0.1");
    } finally {
      await dispatcher.close();
    }
  });

  it("refuses loopback and localhost by default, through the system resolver", async () => {
    const dispatcher = checkedAgent(new EgressPolicy());
    const connectionsBefore = agent.connections;
    try {
      const literal = await refusal(request(`http://127.0.0.1:${agent.port}/`, { dispatcher }));
      expect(literal.host).toBe("127.0.0.1");
      const named = await refusal(request(`http://localhost:${agent.port}/`, { dispatcher }));
      expect(named.message).toMatch(/^localhost resolves to a private address/);
      expect(agent.connections).toBe(connectionsBefore);
    } finally {
      await dispatcher.close();
    }
  });

  it("refuses a name that resolves to an internal address, naming the host, not the address", async () => {
    const policy = new EgressPolicy({ ...allowAgent, resolve: resolving("127.0.0.2") });
    const dispatcher = checkedAgent(policy);
    try {
      const url = `http://metadata.attacker.test:${internal.port}/`;
      const refused = await refusal(request(url, { dispatcher }));
      expect(refused.message).toContain("metadata.attacker.test");
      expect(refused.message).not.toContain("127.0.0.2");
    } finally {
      await dispatcher.close();
    }
  });

  it("connects only to a permitted address when a name resolves to several", async () => {
    const policy = new EgressPolicy({
      ...allowAgent,
      resolve: resolving("127.0.0.2", "10.0.0.1", "127.0.0.1"),
    });
    const dispatcher = checkedAgent(policy);
    try {
      const response = await request(`http://mixed.test:${agent.port}/`, { dispatcher });
      expect(await response.body.text()).toBe("hello from 127.0.0.1");
    } finally {
      await dispatcher.close();
    }
  });

  it("checks each new connection with the address it uses, so a name that rebinds is refused", async () => {
    let answer = "127.0.0.1";
    const rebinding = new EgressPolicy({
      ...allowAgent,
      resolve: async (name) => resolving(answer)(name),
    });
    const dispatcher = checkedAgent(rebinding);
    try {
      const first = await request(`http://rebind.test:${agent.port}/`, { dispatcher });
      expect(await first.body.text()).toBe("hello from 127.0.0.1");
      answer = "127.0.0.2";
      agent.server.closeAllConnections();
      const again = request(`http://rebind.test:${agent.port}/`, { dispatcher, reset: true });
      await refusal(again);
    } finally {
      await dispatcher.close();
    }
  });

  it("checks every redirect a fetch follows, by address and by name", async () => {
    const policy = new EgressPolicy({ ...allowAgent, resolve: resolving("127.0.0.2") });
    const dispatcher = checkedAgent(policy);
    const checked = checkedFetch(dispatcher);
    try {
      for (const target of [
        `http://127.0.0.2:${internal.port}/latest/meta-data`,
        `http://[::ffff:127.0.0.2]:${internal.port}/latest/meta-data`,
        `http://internal.attacker.test:${internal.port}/latest/meta-data`,
      ]) {
        redirectTarget = target;
        await refusal(checked(`http://127.0.0.1:${agent.port}/redirect`));
        expect(agent.requests).toEqual(["GET /redirect"]);
        agent.requests.length = 0;
      }
    } finally {
      await dispatcher.close();
    }
  });

  it("passes a failed lookup on as the resolver's own error", async () => {
    const policy = new EgressPolicy({
      resolve: async () => {
        throw Object.assign(new Error("getaddrinfo ENOTFOUND gone.test"), { code: "ENOTFOUND" });
      },
    });
    const dispatcher = checkedAgent(policy);
    try {
      const error = await request("http://gone.test/", { dispatcher }).catch((e: unknown) => e);
      expect(egressRefusalIn(error)).toBeUndefined();
      expect((error as { code?: string }).code).toBe("ENOTFOUND");
    } finally {
      await dispatcher.close();
    }
  });
});
