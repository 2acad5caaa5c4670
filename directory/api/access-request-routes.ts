import { z } from "zod";
import { badRequest, conflict } from "../../core/index.js";
import type { AccessRequest, AccessRequests } from "../access-requests/index.js";
import { defineRoute, type Route } from "./route-table.js";
import { agentNameParams } from "./schemas.js";

/** Access requests under /api/v1: thin over `AccessRequests` (who may ask, who may decide). */

const timestamp = z.string().describe("ISO 8601 date and time, UTC");
const idParams = z.object({ id: z.string().max(100) });

const fileBody = z.object({
  reason: z.string().max(1000).describe("Why you need to run the agent (shown to its owners)"),
});

const decideBody = z.object({
  reason: z.string().max(1000).optional(),
  grant_to: z
    .enum(["user", "team"])
    .optional()
    .describe("Approve only: the person (default) or every member of one of their teams"),
  team: z.string().max(100).optional().describe('With grant_to "team": the team\'s slug'),
});

const accessRequestResponse = z.object({
  id: z.string(),
  agent: z.string(),
  requested_by: z.string().describe("The person's email"),
  reason: z.string().describe("As written; escape it wherever it is shown"),
  status: z.enum(["pending", "approved", "denied"]),
  grant_target: z.string().nullable(),
  decided_by: z.string().nullable(),
  decided_at: timestamp.nullable(),
  decision_reason: z.string().nullable(),
  created_at: timestamp,
});

export function presentAccessRequest(r: AccessRequest): z.infer<typeof accessRequestResponse> {
  return {
    id: r.id,
    agent: r.agentName,
    requested_by: r.requesterEmail,
    reason: r.reason,
    status: r.status,
    grant_target: r.grantTarget,
    decided_by: r.decidedBy,
    decided_at: r.decidedAt ? r.decidedAt.toISOString() : null,
    decision_reason: r.decisionReason,
    created_at: r.createdAt.toISOString(),
  };
}

const problemsOf = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");

export function accessRequestRoutes(requests: AccessRequests): Route[] {
  const decide = (decision: "approve" | "deny") =>
    defineRoute({
      method: "post",
      path: `/access-requests/{id}/${decision}`,
      operationId: `${decision}AccessRequest`,
      summary:
        decision === "approve"
          ? "Approve a request to run an agent: the runner grant is written"
          : "Deny a request to run an agent",
      description:
        "Only the agent's owners (and platform admins) decide. A decision counts once: deciding again answers 409 with the decision that stands.",
      authenticated: true,
      params: idParams,
      body: decideBody,
      response: { status: 200, description: "The request, decided", schema: accessRequestResponse },
      errors: [400, 403, 404, 409],
      async handle({ principal, params, body }) {
        const parsed = decideBody.safeParse(body ?? {});
        if (!parsed.success) {
          throw badRequest(`Send {"reason": "…optional"}: ${problemsOf(parsed.error)}`);
        }
        if (decision === "deny" && parsed.data.grant_to) {
          throw badRequest("grant_to applies to an approval only.");
        }
        const result = await requests.decide(principal, params.id, {
          decision,
          reason: parsed.data.reason,
          grantTo: parsed.data.grant_to,
          team: parsed.data.team,
        });
        if (!result.applied) {
          const by = result.request.decidedBy?.replace(/^user:/, "");
          throw conflict(
            `This request was already ${result.request.status}${by ? ` by ${by}` : ""}; nothing changed.`,
            { status: result.request.status },
          );
        }
        return { body: presentAccessRequest(result.request) };
      },
    });
  return [
    defineRoute({
      method: "post",
      path: "/agents/{name}/access-requests",
      operationId: "requestAgentAccess",
      summary: "Ask the agent's owners for the right to run it",
      description:
        "For someone who may see the agent but not run it. While a request waits, asking again answers it (200) and tells nobody again.",
      authenticated: true,
      params: agentNameParams,
      body: fileBody,
      response: { status: 201, description: "The request, filed", schema: accessRequestResponse },
      errors: [400, 404, 409],
      async handle({ principal, params, body }) {
        const parsed = fileBody.safeParse(body ?? {});
        if (!parsed.success) {
          throw badRequest(`Send {"reason": "why you need it"}: ${problemsOf(parsed.error)}`);
        }
        const { request, created } = await requests.file(
          principal,
          params.name,
          parsed.data.reason,
        );
        return { status: created ? 201 : 200, body: presentAccessRequest(request) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/access-requests",
      operationId: "listAccessRequests",
      summary: "Pending requests to run agents the caller owns",
      authenticated: true,
      response: {
        status: 200,
        description: "Pending requests, oldest first",
        schema: z.object({ items: z.array(accessRequestResponse) }),
      },
      errors: [],
      async handle({ principal }) {
        return {
          body: { items: (await requests.pendingFor(principal)).map(presentAccessRequest) },
        };
      },
    }),
    decide("approve"),
    decide("deny"),
  ];
}
