import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  CancelledNotificationSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "pino";
import type { UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import type { RunsService } from "../../sessions/index.js";
import type { AgentDirectory } from "../registry/index.js";
import { callAgentTool } from "./mcp-call.js";
import type { McpCalls } from "./mcp-calls.js";
import { agentTool } from "./mcp-tools.js";

/** Tools per tools/list page: the directory's largest page. */
export const TOOLS_PAGE_SIZE = 100;

export interface McpServerDeps {
  directory: AgentDirectory;
  runs: RunsService;
  calls: McpCalls;
  publicUrl: string;
  logger: Logger;
}

const INSTRUCTIONS =
  "Each tool is an agent of your company's Switchboard that you may run. Call one with a request in words; it answers with the agent's reply and a session_id. Pass that session_id to the same tool to continue the conversation. Runs are booked to you and your team.";

/**
 * A Switchboard error as the protocol's: the caller's mistakes keep their words; anything
 * else says only that it went wrong here (the log keeps the cause).
 */
function protocolError(error: unknown, logger: Logger): McpError {
  if (error instanceof McpError) return error;
  if (isSwitchboardError(error) && error.status < 500) {
    return new McpError(ErrorCode.InvalidParams, error.message);
  }
  if (isSwitchboardError(error) && error.code !== "internal_error") {
    return new McpError(ErrorCode.InternalError, error.message);
  }
  logger.error({ err: error }, "MCP request failed");
  return new McpError(ErrorCode.InternalError, "Something went wrong on Switchboard's side.");
}

function requestArguments(args: Record<string, unknown> | undefined): {
  request: string;
  sessionId: string | undefined;
} {
  const request = args?.request;
  const sessionId = args?.session_id;
  if (typeof request !== "string" || request.trim() === "") {
    throw new McpError(
      ErrorCode.InvalidParams,
      'Send the request in words: {"request": "…", "session_id": "…optional"}.',
    );
  }
  if (sessionId !== undefined && typeof sessionId !== "string") {
    throw new McpError(ErrorCode.InvalidParams, "session_id must be a string.");
  }
  const unknown = Object.keys(args ?? {}).filter(
    (key) => key !== "request" && key !== "session_id",
  );
  if (unknown.length > 0) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Only "request" and "session_id" are taken, not ${unknown.map((key) => JSON.stringify(key)).join(", ")}.`,
    );
  }
  return { request, sessionId: sessionId || undefined };
}

/**
 * The MCP server for one HTTP request, as one person (stateless: nothing is kept between
 * requests, so any `serve` process answers any request). Its tools are the agents the
 * person may run; calling one runs it.
 */
export function mcpServer(principal: UserPrincipal, deps: McpServerDeps): Server {
  const server = new Server(
    { name: "switchboard", title: "Switchboard agents", version: "1.0.0" },
    { capabilities: { tools: { listChanged: true } }, instructions: INSTRUCTIONS },
  );
  const { directory, runs, calls, logger } = deps;

  server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    try {
      const page = await directory.listRunnable(principal, {
        cursor: request.params?.cursor,
        limit: TOOLS_PAGE_SIZE,
      });
      return {
        tools: page.items.map(agentTool),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    } catch (error) {
      throw protocolError(error, logger);
    }
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const agentName = request.params.name;
    const args = requestArguments(request.params.arguments);
    const progressToken = request.params._meta?.progressToken;
    try {
      return await callAgentTool(
        {
          principal,
          agentName,
          request: args.request,
          sessionId: args.sessionId,
          requestId: extra.requestId,
          progressToken,
          signal: extra.signal,
          sendProgress: (progress, message) =>
            progressToken === undefined
              ? Promise.resolve()
              : extra.sendNotification({
                  method: "notifications/progress",
                  params: { progressToken, progress, message },
                }),
        },
        {
          ...deps,
          // Hidden and missing agents alike are no tool at all: a protocol error, as for
          // any name that is not in tools/list, so a call cannot tell them apart.
          unknownTool: async () => {
            try {
              await directory.get(principal, agentName);
              return false;
            } catch (error) {
              if (isSwitchboardError(error) && error.status === 404) return true;
              throw error;
            }
          },
        },
      );
    } catch (error) {
      throw protocolError(error, logger);
    }
  });

  // Stateless: the cancelled call may be followed by another process, so the call is found
  // by its request id (the person's own calls only) and its run cancelled through the engine.
  server.setNotificationHandler(CancelledNotificationSchema, async (notification) => {
    const requestId = notification.params.requestId;
    if (requestId === undefined) return;
    try {
      const runId = await calls.runOf(principal.userId, requestId);
      if (runId) await runs.cancel(principal, runId);
    } catch (error) {
      if (!isSwitchboardError(error) || error.status >= 500) {
        logger.warn({ err: error }, "could not cancel an MCP call's run");
      }
    }
  });
  return server;
}
