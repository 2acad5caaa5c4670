import { A2A_BASE, AGENT_CARD_PATH } from "./agent-card.js";

const agentParameter = {
  name: "agent",
  in: "path",
  required: true,
  description: "The agent's name",
  schema: { type: "string" },
};

const jsonRpcError = {
  type: "object",
  required: ["jsonrpc", "id", "error"],
  properties: {
    jsonrpc: { const: "2.0" },
    id: { type: ["string", "integer", "null"] },
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: {
          type: "integer",
          description:
            "JSON-RPC's and A2A's codes (-32001 task not found, -32002 not cancelable, -32602 invalid params…); -32000 is a refusal of Switchboard's (no right to run, a budget, a suspended agent, a context that is not yours), with our code in data.reason",
        },
        message: { type: "string", description: "What went wrong, in words" },
        data: {},
      },
    },
  },
};

/**
 * The A2A routes, for the API's OpenAPI document: they live beside the API (at `/a2a`, not
 * under `/api/v1`), so each names its own server. Their bodies are A2A's, specified by the
 * A2A protocol; only the envelope and Switchboard's choices are described here.
 */
export function a2aOpenApiPaths(): Record<string, Record<string, unknown>> {
  const servers = [{ url: "/" }];
  return {
    [`${A2A_BASE}/{agent}/${AGENT_CARD_PATH}`]: {
      servers,
      get: {
        operationId: "getA2aAgentCard",
        summary: "An agent's A2A card",
        description:
          "For agents the caller may view (any other is a 404, as a missing one): name, description, skills with examples, capabilities (streaming), the JSON-RPC URL and the security scheme (an API key as an HTTP bearer token). With `A2A-Version: 1.0` the card is protocol 1.0's; without the header, or with 0.3, it is 0.3's.",
        parameters: [
          agentParameter,
          { name: "A2A-Version", in: "header", required: false, schema: { type: "string" } },
        ],
        responses: {
          200: {
            description: "The A2A agent card",
            content: { "application/json": { schema: { type: "object" } } },
          },
          401: { description: "No API key, or one that is unknown, revoked or expired" },
          404: { description: "No such agent, or one the caller may not view" },
        },
      },
    },
    [`${A2A_BASE}/{agent}`]: {
      servers,
      post: {
        operationId: "a2aJsonRpc",
        summary: "A2A JSON-RPC: send or stream a message, get or cancel a task",
        description:
          "Protocol 1.0 (`A2A-Version: 1.0`: SendMessage, SendStreamingMessage, GetTask, CancelTask, SubscribeToTask) and 0.3 (no header: message/send, message/stream, tasks/get, tasks/cancel, tasks/resubscribe) on one URL. A message runs the agent (needs `runner`) through the same admission as every surface, booked to the key's person and their team, surface `a2a`. The contextId is a Switchboard session: leave it out to open one; a context that is not the caller's is refused (-32000). The task is the run: its state follows the run (submitted, working, completed, failed, canceled; auth-required while an approver decides a budget overrun), the answer is the artifact `answer`, streamed in pieces. Push notifications and task lists are not offered.",
        parameters: [
          agentParameter,
          { name: "A2A-Version", in: "header", required: false, schema: { type: "string" } },
        ],
        requestBody: {
          required: true,
          content: { "application/json": { schema: { type: "object" } } },
        },
        responses: {
          200: {
            description:
              "A JSON-RPC response (its result, or an error object), or for streaming methods a text/event-stream of them",
            content: {
              "application/json": { schema: { type: "object" } },
              "text/event-stream": { schema: { type: "string" } },
            },
          },
          401: {
            description: "No API key, or a bad one (a JSON-RPC error object)",
            content: { "application/json": { schema: jsonRpcError } },
          },
          404: {
            description: "No such agent, or one the caller may not view (a JSON-RPC error object)",
            content: { "application/json": { schema: jsonRpcError } },
          },
        },
      },
    },
  };
}
