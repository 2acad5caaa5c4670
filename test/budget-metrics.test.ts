import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "./support/ports.js";
import { runSwitchboard, SwitchboardProcess } from "./support/switchboard-process.js";

/**
 * With METRICS_SPEND on, a running `switchboard serve` reports every budget's amount, spend
 * and share used on /metrics, as an operator's Prometheus would scrape them.
 */
describe("budget use on /metrics", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "switchboard-budget-metrics-"));
  const env = { SWITCHBOARD_DATA_DIR: join(root, "data"), LOG_LEVEL: "warn" };
  let server: SwitchboardProcess | undefined;
  afterAll(async () => {
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it("lists each budget's limit, spend and share used", async () => {
    const set = await runSwitchboard(
      ["budgets", "set", "platform", "--period", "month", "--amount", "25", "--mode", "hard"],
      env,
    );
    expect(set.code).toBe(0);
    const port = await freePort();
    server = new SwitchboardProcess(["serve"], {
      ...env,
      PORT: String(port),
      METRICS_SPEND: "on",
    });
    await server.waitFor(`http://127.0.0.1:${port}/readyz`, 90_000);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('switchboard_budget_limit_usd{scope="platform",period="month"} 25');
    expect(metrics).toContain('switchboard_budget_spent_usd{scope="platform",period="month"} 0');
    expect(metrics).toContain('switchboard_budget_used_ratio{scope="platform",period="month"} 0');
  });
});
