/** A budget's period: UTC days, ISO weeks (from Monday), calendar months, or none at all. */
export const PERIODS = ["day", "week", "month", "none"] as const;
export type BudgetPeriod = (typeof PERIODS)[number];

const DAY_MS = 86_400_000;

/** The current period's bounds [from, to); `none` has neither. */
export function periodWindow(
  period: BudgetPeriod,
  now = new Date(),
): { from: Date | undefined; to: Date | undefined } {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  switch (period) {
    case "day": {
      const from = new Date(Date.UTC(y, m, d));
      return { from, to: new Date(from.getTime() + DAY_MS) };
    }
    case "week": {
      const sinceMonday = (now.getUTCDay() + 6) % 7;
      const from = new Date(Date.UTC(y, m, d - sinceMonday));
      return { from, to: new Date(from.getTime() + 7 * DAY_MS) };
    }
    case "month":
      return { from: new Date(Date.UTC(y, m, 1)), to: new Date(Date.UTC(y, m + 1, 1)) };
    case "none":
      return { from: undefined, to: undefined };
  }
}

export function periodWords(period: BudgetPeriod): string {
  return period === "none" ? "in total" : `this ${period}`;
}
