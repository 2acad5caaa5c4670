import type { Request, Response } from "express";
import { badRequest } from "../../core/index.js";
import type { RunsService } from "../../sessions/index.js";
import { defineRoute, type Route } from "./route-table.js";
import {
  presentEventData,
  presentRun,
  presentSession,
  presentSessionDetail,
} from "./run-present.js";
import {
  agentRunParams,
  closedSession,
  listSessionsQuery,
  runEventStream,
  runEventsQuery,
  runIdParams,
  runResponse,
  sessionDetail,
  sessionIdParams,
  sessionList,
  startRunBody,
} from "./run-schemas.js";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const KEEP_ALIVE_MS = 15_000;

function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !IDEMPOTENCY_KEY.test(value)) {
    throw badRequest("Idempotency-Key must be 1 to 200 visible ASCII characters, e.g. a UUID.");
  }
  return value;
}

function lastEventId(header: string | string[] | undefined, after: number | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === "") return after ?? 0;
  if (!/^\d{1,9}$/.test(value))
    throw badRequest("Last-Event-ID must be the id of an event of this run.");
  return Number(value);
}

/** Runs and sessions under /api/v1: thin over `RunsService`, which checks who may do what. */
export function runRoutes(runs: RunsService): Route[] {
  return [
    defineRoute({
      method: "post",
      path: "/agents/{name}/runs",
      operationId: "startRun",
      summary: "Run an agent: one turn, in a new session or one of yours",
      description:
        "Needs `runner` on the agent. Answers at once with the queued run; follow it at links.events or poll links.self. With an Idempotency-Key header, repeating the request returns the run the first one started (200) instead of starting another. A session whose agent was retired cannot be continued (409 agent_retired).",
      authenticated: true,
      params: agentRunParams,
      body: startRunBody,
      bodyHint: `Send what to ask the agent as a JSON body, {"input": "…"} (and "session_id" to continue one of your sessions)`,
      response: { status: 201, description: "The run, queued", schema: runResponse },
      errors: [400, 403, 404, 409],
      async handle({ principal, params, body, headers }) {
        const parsed = startRunBody.safeParse(body);
        if (!parsed.success) {
          const problems = parsed.error.issues.map((issue) =>
            issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
          );
          throw badRequest(
            `Send {"input": "…", "session_id": "…optional"}: ${problems.join("; ")}`,
            { problems },
          );
        }
        const started = await runs.start(principal, {
          agentName: params.name,
          input: parsed.data.input,
          sessionId: parsed.data.session_id,
          idempotencyKey: idempotencyKey(headers["idempotency-key"]),
        });
        return {
          status: started.created ? 201 : 200,
          body: presentRun(started.run, started.agent.name),
        };
      },
    }),
    defineRoute({
      method: "get",
      path: "/runs/{id}",
      operationId: "getRun",
      summary: "A run, with its output once it has finished",
      description:
        "Readable by the person who ran it and by the agent's editors; for a retired agent, by its original owner and platform admins instead of editors.",
      authenticated: true,
      params: runIdParams,
      response: { status: 200, description: "The run", schema: runResponse },
      errors: [404],
      async handle({ principal, params }) {
        const { run, agent } = await runs.get(principal, params.id);
        return { body: presentRun(run, agent?.name ?? null) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/runs/{id}/events",
      operationId: "streamRunEvents",
      summary: "Follow a run's events as Server-Sent Events",
      description:
        "Every event from the start (or after Last-Event-ID / `after`), then new ones as they happen, until the run finishes. Reconnect with Last-Event-ID to resume without gaps or repeats. Event fields are snake_case like the rest of the API, e.g. a usage event's `cost_usd`, `input_tokens` and `output_tokens`.",
      authenticated: true,
      params: runIdParams,
      query: runEventsQuery,
      response: {
        status: 200,
        description: "The event stream",
        schema: runEventStream,
        contentType: "text/event-stream",
      },
      errors: [400, 404],
      async handle({ principal, params, query, headers }) {
        await runs.get(principal, params.id);
        return {
          body: { runId: params.id, after: lastEventId(headers["last-event-id"], query.after) },
        };
      },
      async stream(state: { runId: string; after: number }, req: Request, res: Response) {
        res.status(200).set({
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache, no-transform",
          "x-accel-buffering": "no",
        });
        res.flushHeaders();
        res.write("retry: 2000\n\n");
        const closed = new AbortController();
        req.on("close", () => closed.abort());
        const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
        try {
          for await (const event of runs.follow(state.runId, state.after, closed.signal)) {
            const data = JSON.stringify({
              ...presentEventData(event.data),
              at: event.at.toISOString(),
            });
            res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${data}\n\n`);
          }
        } catch (error) {
          // Headers are gone: say it in the stream; the client resumes with Last-Event-ID.
          res.write(
            `event: error\ndata: ${JSON.stringify({ message: "The event stream broke off; reconnect to resume." })}\n\n`,
          );
          req.log?.warn({ err: error }, "run event stream failed");
        } finally {
          clearInterval(keepAlive);
          res.end();
        }
      },
    }),
    defineRoute({
      method: "post",
      path: "/runs/{id}/cancel",
      operationId: "cancelRun",
      summary: "Stop a run",
      description:
        "A queued run is cancelled at once; a running one is stopped by its worker, which tells the runtime where the runtime can be told. Watch for the closing run.status event.",
      authenticated: true,
      params: runIdParams,
      response: { status: 202, description: "Cancelled, or being stopped", schema: runResponse },
      errors: [404, 409],
      async handle({ principal, params }) {
        const run = await runs.cancel(principal, params.id);
        const { agent } = await runs.get(principal, params.id);
        return { body: presentRun(run, agent?.name ?? null) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/sessions",
      operationId: "listSessions",
      summary: "Your sessions, newest activity first",
      authenticated: true,
      query: listSessionsQuery,
      response: { status: 200, description: "A page of sessions", schema: sessionList },
      errors: [400],
      async handle({ principal, query }) {
        const page = await runs.listSessions(principal, {
          agentName: query.agent,
          cursor: query.cursor,
          limit: query.limit,
        });
        return {
          body: {
            items: page.items.map((item) =>
              presentSession(item.session, { name: item.agentName, retired: item.agentRetired }),
            ),
            next_cursor: page.nextCursor,
          },
        };
      },
    }),
    defineRoute({
      method: "get",
      path: "/sessions/{id}",
      operationId: "getSession",
      summary: "A session with its transcript and runs",
      description:
        "Readable by its person and by the agent's editors; for a retired agent, by its original owner and platform admins instead of editors.",
      authenticated: true,
      params: sessionIdParams,
      response: { status: 200, description: "The session", schema: sessionDetail },
      errors: [404],
      async handle({ principal, params }) {
        return { body: presentSessionDetail(await runs.session(principal, params.id)) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/sessions/{id}/close",
      operationId: "closeSession",
      summary: "End a session",
      description:
        "Its person ends the session once none of its runs is unfinished (409 otherwise): the runtime is told to end its own session too (archived, stopped), so nothing keeps running or billing there. The transcript stays readable; a later run in the session opens it again, with a new runtime session primed with the transcript. Closing a closed session changes nothing.",
      authenticated: true,
      params: sessionIdParams,
      response: { status: 200, description: "The closed session", schema: closedSession },
      errors: [404, 409],
      async handle({ principal, params }) {
        const closed = await runs.closeSession(principal, params.id);
        return {
          body: {
            ...presentSession(closed.session, {
              name: closed.agent?.name ?? null,
              retired: closed.agent?.retired ?? true,
            }),
            runtime_closed: closed.runtimeClosed,
          },
        };
      },
    }),
  ];
}

/** Schemas the OpenAPI document names under components/schemas. */
export const runSchemas = {
  input: { StartRun: startRunBody },
  output: { Run: runResponse, SessionList: sessionList, Session: sessionDetail },
};
