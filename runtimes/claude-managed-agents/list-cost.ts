/** A `list_cost` as cents (the API's minor units), when it is in US dollars. */
export function minorUnits(
  cost: { amount: string; currency: string } | null | undefined,
): number | undefined {
  if (cost?.currency !== "USD" || !/^\d+$/.test(cost.amount)) return undefined;
  return Number(cost.amount);
}
