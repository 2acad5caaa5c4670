import { type SecretService, secretWriteSchema } from "../../secrets/index.js";
import { defineRoute, type Route } from "./route-table.js";
import {
  presentSecret,
  secretChange,
  secretDetail,
  secretGrantParams,
  secretList,
  secretNameParams,
} from "./secret-schemas.js";

/**
 * The secret store under /api/v1: thin over `SecretService`, which decides who may do what.
 * A secret the caller does not own is a 404, as one that does not exist; values go in with
 * PUT and are never part of an answer.
 */
export function secretRoutes(secrets: SecretService): Route[] {
  return [
    defineRoute({
      method: "get",
      path: "/secrets",
      operationId: "listSecrets",
      summary: "The secrets the caller owns (metadata only)",
      authenticated: true,
      response: { status: 200, description: "The caller's secrets, by name", schema: secretList },
      errors: [],
      async handle({ principal }) {
        return { body: { items: (await secrets.list(principal)).map(presentSecret) } };
      },
    }),
    defineRoute({
      method: "get",
      path: "/secrets/{name}",
      operationId: "getSecret",
      summary: "One secret's metadata and the agents that may use it (owners only)",
      authenticated: true,
      params: secretNameParams,
      response: { status: 200, description: "The secret, without its value", schema: secretDetail },
      errors: [404],
      async handle({ principal, params }) {
        return { body: presentSecret(await secrets.get(principal, params.name)) };
      },
    }),
    defineRoute({
      method: "put",
      path: "/secrets/{name}",
      operationId: "putSecret",
      summary: "Create a secret, or change its value or description (owners only)",
      description:
        "To create, send `value` and `owner` (yourself as user:EMAIL, or a team you are an admin of); the owner does not change afterwards. The value is stored encrypted and never shown again: not here, not in the list, not in the audit log.",
      authenticated: true,
      params: secretNameParams,
      body: secretWriteSchema,
      response: { status: 200, description: "Updated (201 when created)", schema: secretChange },
      errors: [400, 403, 409],
      async handle({ principal, params, body, requestId }) {
        const change = await secrets.put(principal, params.name, body, { requestId });
        return {
          status: change.outcome === "created" ? 201 : 200,
          body: { outcome: change.outcome, secret: presentSecret(change.secret) },
        };
      },
    }),
    defineRoute({
      method: "delete",
      path: "/secrets/{name}",
      operationId: "deleteSecret",
      summary: "Delete a secret and every grant of it (owners only)",
      authenticated: true,
      params: secretNameParams,
      response: { status: 204, description: "Deleted" },
      errors: [404],
      async handle({ principal, params, requestId }) {
        await secrets.remove(principal, params.name, { requestId });
        return { status: 204 };
      },
    }),
    defineRoute({
      method: "post",
      path: "/secrets/{name}/grants/{agent}",
      operationId: "grantSecret",
      summary: "Let an agent's runs use the secret (owners only)",
      description:
        "The agent must exist and be one you may view. Whoever may edit that agent decides where its runtime calls go, so grant a secret only to agents whose editors you trust with it.",
      authenticated: true,
      params: secretGrantParams,
      response: { status: 200, description: "The secret, with the grant", schema: secretDetail },
      errors: [404],
      async handle({ principal, params, requestId }) {
        const secret = await secrets.grant(principal, params.name, params.agent, { requestId });
        return { body: presentSecret(secret) };
      },
    }),
    defineRoute({
      method: "delete",
      path: "/secrets/{name}/grants/{agent}",
      operationId: "revokeSecret",
      summary: "Stop an agent's runs from using the secret (owners only)",
      description: "Takes effect at the agent's next runtime call, runs in flight included.",
      authenticated: true,
      params: secretGrantParams,
      response: { status: 200, description: "The secret, without the grant", schema: secretDetail },
      errors: [404],
      async handle({ principal, params, requestId }) {
        const secret = await secrets.revoke(principal, params.name, params.agent, { requestId });
        return { body: presentSecret(secret) };
      },
    }),
  ];
}

/** Schemas the OpenAPI document names under components/schemas. */
export const secretSchemas = {
  input: { SecretWrite: secretWriteSchema },
  output: { Secret: secretDetail, SecretList: secretList, SecretChange: secretChange },
};
