import { type Html, html } from "../html.js";

/** Words a shell passes through as they are; anything else is single-quoted. */
const SHELL_PLAIN = /^[A-Za-z0-9_./:@%+=,-]+$/;

function shellWord(text: string): string {
  return SHELL_PLAIN.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The exact `claude mcp add` line for this Switchboard's MCP server. */
export function claudeMcpAddLine(mcpUrl: string): string {
  return `claude mcp add --transport http switchboard ${shellWord(mcpUrl)} --header "Authorization: Bearer <your key>"`;
}

/** Cursor's `mcp.json` with this Switchboard's MCP server. */
export function cursorMcpJson(mcpUrl: string): string {
  const config = {
    mcpServers: {
      switchboard: { url: mcpUrl, headers: { Authorization: "Bearer <your key>" } },
    },
  };
  return JSON.stringify(config, null, 2);
}

/**
 * "Use from Claude Code / Cursor": how to add the MCP server where this agent (and every
 * other the person may run) is a tool. The key stays a placeholder: a page never shows one.
 */
export function codingToolsSection(mcpUrl: string, agentName: string): Html {
  return html`<section class="card coding-tools" aria-labelledby="coding-tools" id="use-from-coding-tools">
  <h2 id="coding-tools">Use from Claude Code / Cursor</h2>
  <p>Add Switchboard as an MCP server once: every agent you may run becomes a tool, and this one is <code class="mono">${agentName}</code>. Put your own API key in place of <code class="mono">&lt;your key&gt;</code> (an admin makes one with <code class="mono">switchboard keys create --user EMAIL</code>).</p>
  <p class="small muted">Claude Code, in a terminal:</p>
  <pre class="code" data-snippet="claude">${claudeMcpAddLine(mcpUrl)}</pre>
  <p class="small muted">Cursor, in <code class="mono">.cursor/mcp.json</code> (or <code class="mono">~/.cursor/mcp.json</code>):</p>
  <pre class="code" data-snippet="cursor">${cursorMcpJson(mcpUrl)}</pre>
  <p class="small muted">Each call answers with a <code class="mono">session_id</code>; pass it back to continue the conversation. Runs are booked to you and your team, and appear in My sessions.</p>
</section>`;
}
