/** Small formatters shared by the pages, so money and times read the same everywhere. */

import { formatUsd } from "../../../core/index.js";

/** Dollars, as Slack and Teams show them (one formatter in core). */
export { formatUsd };

/** UTC, to the minute: the server renders for every viewer, so it says which clock it uses. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-11-24" → "Nov 24". */
export function formatDay(day: string): string {
  const [, month, date] = day.split("-");
  return `${MONTHS[Number(month) - 1] ?? month} ${Number(date)}`;
}

/** Seconds between two times, for "took 1.4 s". */
export function formatDuration(from: Date, to: Date): string {
  const seconds = Math.max(0, (to.getTime() - from.getTime()) / 1000);
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds / 60)} min`;
}

const SURFACES: Record<string, string> = {
  site: "Directory site",
  slack: "Slack",
  teams: "Teams",
  api: "API",
  a2a: "A2A",
  mcp: "MCP",
};

export function surfaceLabel(surface: string): string {
  return SURFACES[surface] ?? surface;
}
