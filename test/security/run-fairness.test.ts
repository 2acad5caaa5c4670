import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeldAgentDouble } from "../doubles/held-agent.js";
import { eventually } from "../support/eventually.js";
import { RunsDeployment } from "../support/runs-deployment.js";

/**
 * One person cannot starve everyone else. Mallory starts more long runs than the workers
 * have slots (two workers of three); Ada's one run still starts and finishes while
 * Mallory's are held, Mallory's extra runs wait (and she is told why) and all finish after,
 * and no more than RUN_MAX_PER_USER of them ran at once across both workers. Real
 * processes on PostgreSQL and BullMQ; the agent is a slow double on the HTTP runtime.
 */

const MALLORY = "mallory@example.com";
const ADA = "ada@example.com";

let agent: HeldAgentDouble;
let deployment: RunsDeployment;

beforeAll(async () => {
  agent = await HeldAgentDouble.start();
  deployment = await RunsDeployment.start({
    agents: agent.manifest("slow-double"),
    people: [MALLORY, ADA],
    env: { RUN_CONCURRENCY: "3", RUN_MAX_PER_USER: "2" },
    workers: 2,
  });
}, 300_000);

afterAll(async () => {
  await deployment?.close();
  expect(agent.unexpected).toEqual([]);
  await agent?.close();
});

describe("one person flooding the workers with long runs", { timeout: 180_000 }, () => {
  it("cannot starve another person's run, and has their own extra runs wait, then finish", async () => {
    const flood = [];
    for (let i = 1; i <= 8; i++) {
      flood.push(await deployment.startRun(MALLORY, "slow-double", `mallory-${i}`));
    }
    await eventually(async () => expect(agent.held.started).toHaveLength(2), 60_000);

    // Ada's run starts and finishes while Mallory's two are still in progress.
    agent.held.release("ada-1");
    const ada = await deployment.startRun(ADA, "slow-double", "ada-1");
    expect(await deployment.finished(ADA, ada.id)).toMatchObject({
      status: "succeeded",
      output: "done ada-1",
    });
    expect(agent.held.started.filter((input) => input.startsWith("mallory"))).toHaveLength(2);

    // One of Mallory's runs that did not start says why it waits, on the API's event stream.
    const waiting = flood.find((run) => !agent.held.started.includes(run.input))?.id as string;
    const seen = await deployment.eventsUntil(MALLORY, waiting, (e) => e.data.status === "waiting");
    expect(seen.at(-1)).toMatchObject({
      type: "run.status",
      data: {
        status: "waiting",
        reason: "person_limit",
        message:
          "You have 2 runs in progress, as many as one person may have at once; this one starts when one of them finishes.",
      },
    });
    expect((await deployment.run(MALLORY, waiting)).status).toBe("queued");

    agent.held.releaseAll();
    for (const run of flood) {
      expect(await deployment.finished(MALLORY, run.id)).toMatchObject({ status: "succeeded" });
    }
    // Never more than her limit at once, across both workers' six slots.
    expect(agent.held.most.get("mallory")).toBe(2);
  });
});
