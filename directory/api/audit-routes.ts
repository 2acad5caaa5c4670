import type { Response } from "express";
import { z } from "zod";
import { badRequest } from "../../core/index.js";
import {
  type AuditFilter,
  type AuditReader,
  MAX_AUDIT_LIMIT,
  presentAuditRecord,
} from "../../governance/index.js";
import { defineRoute, type Route } from "./route-table.js";

export const auditQuerySchema = z.object({
  action: z
    .string()
    .max(200)
    .optional()
    .describe("An action (`budget.set`), or a family (`budget.*`)"),
  actor: z
    .string()
    .max(320)
    .optional()
    .describe("`user:EMAIL` (or the email alone) or `system:NAME`"),
  target: z.string().max(400).optional().describe("`TYPE:ID` (`agent:triage`), or `TYPE` alone"),
  from: z.string().optional().describe("First UTC day, YYYY-MM-DD, included"),
  to: z.string().optional().describe("Last UTC day, YYYY-MM-DD, included"),
  before: z.string().optional().describe("Only entries older than this id (the next page)"),
  limit: z
    .string()
    .optional()
    .describe(`Entries, newest first: 1 to ${MAX_AUDIT_LIMIT} (default 1000)`),
});

function whole(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d{1,15}$/.test(value))
    throw badRequest(`${name} must be a whole number; "${value}" is not.`);
  return Number(value);
}

/** The query as a filter; the audit log's own checks answer the rest in words. */
export function auditFilterOf(query: z.output<typeof auditQuerySchema>): AuditFilter {
  return {
    action: query.action?.trim() || undefined,
    actor: query.actor?.trim() || undefined,
    target: query.target?.trim() || undefined,
    from: query.from?.trim() || undefined,
    to: query.to?.trim() || undefined,
    before: whole("before", query.before),
    limit: whole("limit", query.limit) ?? 1000,
  };
}

/**
 * GET /audit: the audit log as JSON lines, newest first, for platform admins. A full page
 * says where the next starts (`X-Next-Before`), so a script can page back through all of it.
 */
export function auditRoutes(reader: AuditReader): Route[] {
  return [
    defineRoute({
      method: "get",
      path: "/audit",
      operationId: "getAuditLog",
      summary: "The audit log as JSON lines, newest first (platform admins)",
      description:
        "One JSON object a line: id, occurred_at, actor, action, target_type, target_id, details, request_id. When the page is full, `X-Next-Before` is the `before` of the next page.",
      authenticated: true,
      query: auditQuerySchema,
      response: {
        status: 200,
        description: "Entries, one JSON object a line",
        contentType: "application/x-ndjson",
      },
      errors: [400, 403],
      async handle({ principal, query }) {
        const filter = auditFilterOf(query);
        const records = await reader.search(principal, filter);
        return { body: { records, full: records.length === filter.limit } };
      },
      async stream(
        state: { records: Parameters<typeof presentAuditRecord>[0][]; full: boolean },
        _req,
        res: Response,
      ) {
        const last = state.records.at(-1);
        res.status(200).set({
          "content-type": "application/x-ndjson; charset=utf-8",
          "cache-control": "no-store",
          ...(state.full && last ? { "x-next-before": String(presentAuditRecord(last).id) } : {}),
        });
        res.end(
          state.records.map((record) => `${JSON.stringify(presentAuditRecord(record))}\n`).join(""),
        );
      },
    }),
  ];
}
