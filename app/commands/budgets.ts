import type { Principal } from "../../authz/index.js";
import { badRequest } from "../../core/index.js";
import { CLI_ACTOR, type CliContext, formatTable } from "./cli-context.js";

/** `switchboard budgets …`: budgets as the operator manages them (audited as system:cli). */

const OPERATOR: Principal = { kind: "system", name: CLI_ACTOR.replace(/^system:/, "") };

const usd = (value: number) => `$${value.toFixed(2)}`;

export async function budgetsSet(
  ctx: CliContext,
  scope: string,
  options: { period: string; amount: string; mode: string; thresholds?: string | undefined },
): Promise<number> {
  const amount = Number(options.amount);
  if (options.amount.trim() === "" || !Number.isFinite(amount)) {
    throw badRequest(`--amount must be a number of US dollars, e.g. 25; got "${options.amount}".`);
  }
  const thresholds = options.thresholds?.split(",").map((t) => Number(t.trim()));
  await ctx.withDirectory(async ({ budgets }) => {
    const { budget, created } = await budgets.set(OPERATOR, {
      scope,
      period: options.period,
      amount_usd: amount,
      mode: options.mode,
      ...(thresholds ? { thresholds } : {}),
    });
    ctx.print(
      `${created ? "created" : "updated"}  ${budget.id}  ${budget.scope}  ${usd(budget.amountUsd)} per ${budget.period}  ${budget.mode}`,
    );
  });
  return 0;
}

export async function budgetsList(ctx: CliContext): Promise<number> {
  const { print } = ctx;
  await ctx.withDirectory(async ({ budgets }) => {
    const list = await budgets.list(OPERATOR);
    if (list.length === 0) {
      print(
        "No budgets yet. Set one with `switchboard budgets set team:SLUG --period month --amount 25 --mode hard`.",
      );
      return;
    }
    const rows = [["ID", "SCOPE", "PERIOD", "AMOUNT", "MODE", "SPENT", "HELD", "LIMIT"]];
    for (const b of list) {
      rows.push([
        b.id,
        b.scope,
        b.period,
        usd(b.amountUsd),
        b.mode,
        usd(b.spentUsd),
        usd(b.reservedUsd),
        usd(b.limitUsd),
      ]);
    }
    for (const line of formatTable(rows)) print(line);
  });
  return 0;
}

export async function budgetsDelete(ctx: CliContext, id: string): Promise<number> {
  await ctx.withDirectory(({ budgets }) => budgets.delete(OPERATOR, id));
  ctx.print(`deleted  ${id}`);
  return 0;
}
