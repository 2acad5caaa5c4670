import { expect } from "vitest";
import { freePort } from "./ports.js";
import { runSwitchboard, SwitchboardProcess } from "./switchboard-process.js";

export interface ServedAgents {
  serve: SwitchboardProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** An API key of `user`'s. */
  key: string;
}

/**
 * A Switchboard started the way its operator starts one: `agents apply` on a folder of
 * manifests, an API key for `user`, then `serve`, waited on until it is ready.
 */
export async function serveWithAgents(
  agentsDir: string,
  env: Record<string, string>,
  user: string,
): Promise<ServedAgents> {
  const applied = await runSwitchboard(["agents", "apply", agentsDir], env);
  expect(applied.code, applied.stderr).toBe(0);
  const created = await runSwitchboard(["keys", "create", "--user", user], env);
  const key = created.stdout.trim().split("\n").at(-1) ?? "";
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serve = new SwitchboardProcess(["serve"], { ...env, PORT: String(port) });
  await serve.waitFor(`${base}/readyz`, 90_000);
  return { serve, base, key };
}
