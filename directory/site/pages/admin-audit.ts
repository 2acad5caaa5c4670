import { type Html, html } from "../html.js";

/** The audit filters as the admin page's form holds them. */
export type AuditForm = Partial<Record<"action" | "actor" | "target" | "from" | "to", string>>;

const FIELDS = [
  ["action", "Action", "budget.* or agent.created"],
  ["actor", "Who", "email or system:NAME"],
  ["target", "Target", "agent:triage or agent"],
] as const;

/** The query string of the filters, for the CSV link (without the page's `audit_` prefix). */
export function auditQueryString(form: AuditForm): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) if (value) params.set(name, value);
  return params.toString();
}

/** The filter form above the audit table, its CSV link, and why a filter was refused. */
export function auditControls(form: AuditForm, error?: string): Html {
  const query = auditQueryString(form);
  return html`<form method="get" action="/admin#audit" class="spend-filters card" aria-label="Audit filters">
  ${FIELDS.map(
    ([name, label, hint]) =>
      html`<div class="field"><label for="audit-${name}">${label}</label><input type="text" id="audit-${name}" name="audit_${name}" value="${form[name] ?? ""}" placeholder="${hint}" maxlength="320"></div>`,
  )}
  <div class="field"><label for="audit-from">From</label><input type="date" id="audit-from" name="audit_from" value="${form.from ?? ""}"></div>
  <div class="field"><label for="audit-to">To</label><input type="date" id="audit-to" name="audit_to" value="${form.to ?? ""}"></div>
  <div class="field field-actions"><button type="submit">Filter</button></div>
</form>
${error && html`<p class="notice notice-error" role="alert">${error}</p>`}
<p><a class="button-quiet" id="audit-csv" href="/admin/audit.csv${query ? `?${query}` : ""}" download>Download CSV</a> <span class="small muted">(up to 10,000 entries, newest first; the API's <code>GET /api/v1/audit</code> pages through all of them)</span></p>`;
}
