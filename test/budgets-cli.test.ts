import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runSwitchboard } from "./support/switchboard-process.js";

/** The operator's budgets with the real CLI, on the embedded database: set, list, delete. */

const root = mkdtempSync(join(tmpdir(), "switchboard-budgets-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "warn" };
const cli = (...args: string[]) => runSwitchboard(["budgets", ...args], env);

describe("switchboard budgets", { timeout: 120_000 }, () => {
  it("sets, replaces, lists and deletes a budget, and refuses bad input in words", async () => {
    const set = await cli(
      "set",
      "team:research",
      "--period",
      "month",
      "--amount",
      "25",
      "--mode",
      "hard",
    );
    expect(set.code).toBe(0);
    const id = /created {2}(\S+) {2}team:research {2}\$25\.00 per month {2}hard/.exec(
      set.stdout,
    )?.[1];
    expect(id).toBeDefined();
    const replaced = await cli(
      "set",
      "team:research",
      "--period",
      "month",
      "--amount",
      "40",
      "--mode",
      "approval",
    );
    expect(replaced.stdout).toContain(`updated  ${id}  team:research  $40.00 per month  approval`);

    const bad = await cli(
      "set",
      "galaxy:far",
      "--period",
      "month",
      "--amount",
      "ten",
      "--mode",
      "hard",
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--amount must be a number of US dollars, e.g. 25; got "ten".');
    const badScope = await cli(
      "set",
      "galaxy:far",
      "--period",
      "month",
      "--amount",
      "1",
      "--mode",
      "hard",
    );
    expect(badScope.stderr).toContain(
      'scope must be "team:SLUG", "agent:NAME", "user:EMAIL" or "platform"',
    );

    const list = await cli("list");
    expect(list.stdout.split("\n")[0]).toMatch(
      /^ID +SCOPE +PERIOD +AMOUNT +MODE +SPENT +HELD +LIMIT$/,
    );
    expect(list.stdout).toMatch(
      new RegExp(
        `${id} +team:research +month +\\$40\\.00 +approval +\\$0\\.00 +\\$0\\.00 +\\$40\\.00`,
      ),
    );

    expect((await cli("delete", id as string)).stdout).toContain(`deleted  ${id}`);
    expect((await cli("list")).stdout).toContain("No budgets yet.");
  });
});
