import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeWithOpenFga,
  OpenFgaServer,
  openFgaBinaryPath,
} from "../../test/support/openfga-server.js";
import { freePort } from "../../test/support/ports.js";
import { AccessPolicy } from "../access-policy.js";
import { AuthzError } from "../embedded/index.js";
import { syncPlatformAdmins } from "../open-authorizer.js";
import { loadPolicyModel } from "../policy-model.js";
import type { UserPrincipal } from "../principal.js";
import { OpenFgaAuthorizer } from "./openfga-authorizer.js";

/**
 * The OpenFGA backend against a real OpenFGA server (in-memory datastore), started here.
 * The conformance suite's run against the server is in conformance-server.test.ts.
 */

const ada: UserPrincipal = { kind: "user", userId: "u1", email: "ada@example.com", via: "api" };

describeWithOpenFga("OpenFgaAuthorizer against a real OpenFGA server", (openFga) => {
  it("creates the switchboard store and writes the model once, then reuses both", async () => {
    const first = await OpenFgaAuthorizer.connect({
      apiUrl: openFga().url,
      modelDsl: loadPolicyModel(),
    });
    const second = await OpenFgaAuthorizer.connect({
      apiUrl: openFga().url,
      modelDsl: loadPolicyModel(),
    });
    expect(second.storeId).toBe(first.storeId);
    expect(second.modelId).toBe(first.modelId);

    const changed = `${loadPolicyModel()}\ntype extra\n  relations\n    define viewer: [user]\n`;
    const third = await OpenFgaAuthorizer.connect({ apiUrl: openFga().url, modelDsl: changed });
    expect(third.storeId).toBe(first.storeId);
    expect(third.modelId).not.toBe(first.modelId);
    // A process pinned to the older model keeps evaluating with it.
    await expect(
      first.check({ user: "user:x@example.com", relation: "viewer", object: "extra:1" }),
    ).rejects.toThrow(AuthzError);
  });

  it("grants, checks, lists, reads and revokes, with idempotent writes", async () => {
    const fga = await OpenFgaAuthorizer.connect({
      apiUrl: openFga().url,
      storeName: "grants",
      modelDsl: loadPolicyModel(),
    });
    const grants = [
      { user: "team:platform#member", relation: "runner", object: "agent:triage" },
      { user: "user:ada@example.com", relation: "member", object: "team:platform" },
      { user: "user:*", relation: "viewer", object: "agent:faq" },
    ];
    await fga.write(grants);
    await fga.write(grants); // again: no error
    expect(
      await fga.check(
        { user: "user:ada@example.com", relation: "runner", object: "agent:triage" },
        { fresh: true },
      ),
    ).toBe(true);
    expect(
      await fga.check({ user: "user:bob@example.com", relation: "viewer", object: "agent:triage" }),
    ).toBe(false);
    expect(
      await fga.batchCheck({
        user: "user:bob@example.com",
        relation: "viewer",
        objects: ["agent:triage", "agent:faq"],
      }),
    ).toEqual([false, true]);
    expect(
      (
        await fga.listObjects({ user: "user:ada@example.com", relation: "viewer", type: "agent" })
      ).sort(),
    ).toEqual(["agent:faq", "agent:triage"]);
    expect(await fga.read({ object: "agent:triage" })).toEqual([grants[0]]);

    await fga.write([], [grants[1] as (typeof grants)[0]]);
    await fga.write([], [grants[1] as (typeof grants)[0]]); // deleting what is gone: no error
    expect(
      await fga.check(
        { user: "user:ada@example.com", relation: "runner", object: "agent:triage" },
        { fresh: true },
      ),
    ).toBe(false);
  });

  it("writes and deletes more tuples than the server takes in one request (100)", async () => {
    const fga = await OpenFgaAuthorizer.connect({
      apiUrl: openFga().url,
      storeName: "many",
      modelDsl: loadPolicyModel(),
    });
    const teams = Array.from({ length: 150 }, (_, i) => ({
      user: `team:t${i}#member`,
      relation: "agent_registrar",
      object: "platform:switchboard",
    }));
    await fga.write(teams);
    expect(await fga.read({ object: "platform:switchboard" })).toHaveLength(150);
    await fga.write(teams.slice(0, 20), teams.slice(20));
    expect(await fga.read({ object: "platform:switchboard" })).toHaveLength(20);
  });

  it("refuses a tuple the model does not allow, writing nothing", async () => {
    const fga = await OpenFgaAuthorizer.connect({
      apiUrl: openFga().url,
      storeName: "refusals",
      modelDsl: loadPolicyModel(),
    });
    const refused = fga.write([
      { user: "user:ada@example.com", relation: "viewer", object: "agent:ok" },
      { user: "agent:x", relation: "runner", object: "agent:y" },
    ]);
    await expect(refused).rejects.toMatchObject({ code: "invalid_tuple" });
    expect(await fga.read({ object: "agent:ok" })).toEqual([]);
  });

  it("adds the configured platform admins and removes no one", async () => {
    const fga = await OpenFgaAuthorizer.connect({
      apiUrl: openFga().url,
      storeName: "admins",
      modelDsl: loadPolicyModel(),
    });
    await syncPlatformAdmins(fga, ["ada@example.com", "bob@example.com"]);
    const result = await syncPlatformAdmins(fga, ["ada@example.com"]);
    expect(result).toEqual({ added: [], removed: [] });
    expect(await fga.read({ object: "platform:switchboard", relation: "admin" })).toHaveLength(2);
    const policy = new AccessPolicy(fga, 2_000);
    expect(await policy.can(ada, "owner", "agent:anything")).toBe(false); // no platform link yet
    await fga.write([
      { user: "platform:switchboard", relation: "platform", object: "agent:anything" },
    ]);
    expect(await policy.can(ada, "owner", "agent:anything", { fresh: true })).toBe(true);
  });

  it("answers /readyz's ping while up, and fails it once the server is gone", async () => {
    const own = await OpenFgaServer.start(openFgaBinaryPath());
    const fga = await OpenFgaAuthorizer.connect({ apiUrl: own.url, modelDsl: loadPolicyModel() });
    await fga.ping();
    await own.stop();
    await expect(fga.ping()).rejects.toThrow();
    const policy = new AccessPolicy(fga, 2_000);
    await expect(policy.can(ada, "viewer", "agent:triage")).rejects.toMatchObject({
      code: "authz_unavailable",
      status: 503,
      message: expect.stringContaining("Access could not be checked"),
    });
  });
});

describe("an OpenFGA server that accepts connections but never answers", () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    // Holds every connection open and says nothing.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("is a denial after the configured timeout, saying access could not be checked", async () => {
    const connecting = OpenFgaAuthorizer.connect({
      apiUrl: url,
      storeId: "01HXYZ",
      modelDsl: loadPolicyModel(),
    });
    // Even connecting hangs; the policy's timeout is what bounds a person's wait.
    const policy = new AccessPolicy(
      {
        backend: "openfga",
        check: () =>
          connecting.then((fga) =>
            fga.check({ user: "user:a@b.co", relation: "viewer", object: "agent:x" }),
          ),
        batchCheck: async () => [],
        listObjects: async () => [],
        listUsers: async () => [],
        write: async () => {},
        read: async () => [],
        ping: async () => {},
        close: async () => {},
      },
      200,
    );
    await expect(policy.can(ada, "viewer", "agent:x")).rejects.toMatchObject({
      code: "authz_unavailable",
    });
    connecting.catch(() => {});
  });
});
