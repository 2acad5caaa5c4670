import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";

/**
 * The official MCP TypeScript client connected to a Switchboard's /mcp with a person's API
 * key, as Claude Code or Cursor connect. `bases` spreads the requests over several `serve`
 * processes in turn, as a load balancer would.
 */
export async function mcpClient(
  bases: string | readonly string[],
  key: string,
  options: { name?: string } = {},
): Promise<Client> {
  const all = typeof bases === "string" ? [bases] : bases;
  let next = 0;
  const roundRobin: FetchLike = (url, init) => {
    const target = new URL(String(url));
    const base = new URL(all[next++ % all.length] as string);
    target.host = base.host;
    return fetch(target, init);
  };
  const client = new Client({ name: options.name ?? "switchboard-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${all[0]}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
    fetch: roundRobin,
  });
  await client.connect(transport);
  return client;
}

/** Every tool name the client is offered, through every page. */
export async function allToolNames(client: Client): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    names.push(...page.tools.map((tool) => tool.name));
    cursor = page.nextCursor;
  } while (cursor);
  return names;
}

/** A tool result's text parts, joined. */
export function textOf(result: Record<string, unknown>): string {
  return ((result.content ?? []) as { type: string; text?: string }[])
    .map((part) => part.text ?? "")
    .join("\n");
}
