import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Logger } from "pino";
import type { Principal } from "../../authz/index.js";
import type { AgentDirectory } from "../registry/index.js";
import { TOOLS_PAGE_SIZE } from "./mcp-server.js";

/** Every tool the person has, as one string: names and manifests' digests, in order. */
async function toolsFingerprint(directory: AgentDirectory, principal: Principal): Promise<string> {
  const parts: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await directory.listRunnable(principal, { cursor, limit: TOOLS_PAGE_SIZE });
    for (const agent of page.items) parts.push(`${agent.name}@${agent.manifestDigest}`);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return parts.join("\n");
}

/**
 * While a client holds its notification stream (GET /mcp) open, checks every `everyMs`
 * whether the tools it would list changed (access granted or taken away, an agent added,
 * changed, suspended or retired) and then sends `notifications/tools/list_changed`. A
 * stateless server has no other way to reach the client between its requests, and the
 * check is of the same list tools/list answers with, so whatever changes it is seen.
 * Answers a function that stops it.
 */
export function watchTools(
  server: Server,
  deps: { directory: AgentDirectory; principal: Principal; everyMs: number; logger: Logger },
): () => void {
  let stopped = false;
  let last: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    try {
      const now = await toolsFingerprint(deps.directory, deps.principal);
      if (last !== undefined && now !== last && !stopped) await server.sendToolListChanged();
      last = now;
    } catch (error) {
      deps.logger.warn({ err: error }, "could not check an MCP client's tools for changes");
    }
    if (!stopped) timer = setTimeout(check, deps.everyMs);
  };
  void check();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
