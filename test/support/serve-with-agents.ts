import { expect } from "vitest";
import { freePort } from "./ports.js";
import { runSwitchboard, SwitchboardProcess } from "./switchboard-process.js";

export interface ServedAgents {
  serve: SwitchboardProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** An API key of the first person's. */
  key: string;
  /** Each person's API key. */
  keys: Map<string, string>;
}

/**
 * A Switchboard started the way its operator starts one: `agents apply` on manifests (a file
 * or a folder), an API key for each person, then `serve` (with `args`), waited on until it
 * is ready.
 */
export async function serveWithAgents(
  agents: string,
  env: Record<string, string>,
  people: string | readonly string[],
  args: readonly string[] = [],
  /** Listen here (e.g. a port PUBLIC_URL already names); default: a free one. */
  options: { port?: number } = {},
): Promise<ServedAgents> {
  const applied = await runSwitchboard(["agents", "apply", agents], env);
  expect(applied.code, applied.stderr).toBe(0);
  const keys = new Map<string, string>();
  for (const person of typeof people === "string" ? [people] : people) {
    const created = await runSwitchboard(["keys", "create", "--user", person], env);
    expect(created.code, created.stderr).toBe(0);
    keys.set(person, created.stdout.trim().split("\n").at(-1) ?? "");
  }
  const port = options.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const serve = new SwitchboardProcess(["serve", ...args], { ...env, PORT: String(port) });
  await serve.waitFor(`${base}/readyz`, 120_000);
  return { serve, base, key: [...keys.values()][0] ?? "", keys };
}
