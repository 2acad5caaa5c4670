import type { SpendAnswer } from "./spend-service.js";

/**
 * A CSV cell that a spreadsheet shows as text. A cell starting with = + - @ (or a tab or
 * carriage return, which some spreadsheets skip before looking) would be read as a formula,
 * and a team slug, an email or a model name is text someone else chose: such a cell gets a
 * leading apostrophe, as OWASP advises. Cells with a comma, quote or line break are quoted.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvLine = (cells: (string | number | null)[]) => `${cells.map(csvCell).join(",")}\r\n`;

/**
 * The spend page's download: one line per group (as the page's table), then the total, then
 * one line per day; RFC 4180 lines (CRLF). `estimated_usd` is the part of a group's cost that
 * is an estimate (runtimes billed by their own meter, priced by a configured rate).
 */
export function spendCsv(answer: SpendAnswer): string {
  let out = csvLine([answer.group_by, "cost_usd", "runs", "estimated_usd"]);
  for (const item of answer.items) {
    out += csvLine([item.key ?? "(none)", item.cost_usd, item.runs, item.estimated_usd]);
  }
  out += csvLine(["total", answer.total_usd, answer.runs, answer.estimated_usd]);
  out += "\r\n";
  out += csvLine(["day", "cost_usd", "runs"]);
  for (const day of answer.days) out += csvLine([day.day, day.cost_usd, day.runs]);
  return out;
}
