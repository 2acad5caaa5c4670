import { expect, it } from "vitest";
import {
  AccessPolicy,
  loadPolicyModel,
  OpenFgaAuthorizer,
  type UserPrincipal,
} from "../../authz/index.js";
import { eventually } from "../support/eventually.js";
import { describeWithOpenFga } from "../support/openfga-server.js";

/**
 * The attack: keep access that was revoked, by asking a process whose answers are cached.
 * With an OpenFGA server, each Switchboard process keeps a person's list of agents for up
 * to OPENFGA_LIST_CACHE_TTL_MS, and the server (run as production runs it) caches checks.
 * Mallory, whose access to payroll is revoked through one process, keeps asking another one
 * that has just answered her, and the one that made the revoke.
 */

const mallory: UserPrincipal = {
  kind: "user",
  userId: "mallory",
  email: "mallory@example.com",
  via: "api",
};
const grant = { user: "user:mallory@example.com", relation: "runner", object: "agent:payroll" };

describeWithOpenFga(
  "a revocation while a process holds the revoked person's answers",
  (openFga) => {
    it("reaches the process that made it at once, and every other within seconds", async () => {
      const open = async () => {
        const authorizer = await OpenFgaAuthorizer.connect({
          apiUrl: openFga().url,
          storeName: "sec-revoke",
          modelDsl: loadPolicyModel(),
          listCacheTtlMs: 60_000, // only an invalidation can end her access sooner
        });
        return { authorizer, policy: new AccessPolicy(authorizer, 5_000) };
      };
      const [admin, other] = [await open(), await open()];
      const writer = await OpenFgaAuthorizer.connect({
        apiUrl: openFga().url,
        storeName: "sec-revoke",
        modelDsl: loadPolicyModel(),
      });
      await writer.write([grant]);
      const seen = async ({ policy }: { policy: AccessPolicy }) => ({
        listed: await policy.list(mallory, "viewer", "agent"),
        runs: await policy.can(mallory, "runner", "agent:payroll"),
      });
      // Both processes answer her; neither has written, so they ask through the server's caches.
      await eventually(async () => {
        for (const process of [admin, other])
          expect(await seen(process)).toEqual({ listed: ["agent:payroll"], runs: true });
      });

      // The admin's process revokes, as the admin page and `authz revoke` do.
      await admin.authorizer.write([], [grant]);

      expect(await seen(admin)).toEqual({ listed: [], runs: false });
      // The other process hears of it from OpenFGA's changelog, its check from the server's
      // cache controller: seconds, never the minute its list is kept for.
      await eventually(
        async () => expect(await seen(other)).toEqual({ listed: [], runs: false }),
        5_000,
      );
    }, 30_000);
  },
);
