import { z } from "zod";
import { UUID_PATTERN } from "../../core/index.js";
import { agentName } from "../manifest/index.js";

/** Wire shapes of runs and sessions (snake_case), for validation and the OpenAPI document. */

const timestamp = z.string().describe("ISO 8601 date and time, UTC");
const uuid = z.string().describe("A UUID");

export const startRunBody = z
  .strictObject({
    input: z.string().describe("What you ask the agent, as you would type it in chat"),
    session_id: z
      .string()
      .regex(UUID_PATTERN, { error: "must be a session id (a UUID) from an earlier run" })
      .optional()
      .describe("Continue this session (yours, with this agent); unset: a new one"),
  })
  .describe("A turn to run");

export const runIdParams = z.object({ id: uuid });
export const sessionIdParams = z.object({ id: uuid });
export const agentRunParams = z.object({ name: agentName.describe("The agent's slug") });

export const runEventsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      "Send events after this seq (like the Last-Event-ID header, which wins when both are sent)",
    ),
});

export const listSessionsQuery = z.object({
  agent: agentName.optional().describe("Only sessions with this agent"),
  cursor: z.string().max(500).optional().describe("next_cursor from the previous page"),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const runError = z.object({ code: z.string(), message: z.string() });

export const runResponse = z.object({
  id: uuid,
  session_id: uuid,
  agent: z.string().nullable().describe("The agent's slug"),
  status: z.enum(["queued", "needs_approval", "running", "succeeded", "failed", "cancelled"]),
  input: z.string(),
  output: z.string().nullable().describe("The agent's answer once the run succeeded"),
  error: runError.nullable().describe("Why the run failed, in words for a person"),
  attempt: z
    .number()
    .int()
    .describe("Tries so far (retries after transient failures or a lost worker)"),
  cancel_requested: z.boolean(),
  cost_usd: z
    .number()
    .describe("Everything booked to the run: its runtime's reported cost and its model calls"),
  approval_id: z
    .string()
    .nullable()
    .describe("The approval a needs_approval run waits for (a budget's approver decides)"),
  surface: z.string(),
  created_at: timestamp,
  started_at: timestamp.nullable(),
  finished_at: timestamp.nullable(),
  links: z.object({ self: z.string(), events: z.string(), session: z.string() }),
});

export const sessionSummary = z.object({
  id: uuid,
  agent: z.string().nullable(),
  agent_retired: z
    .boolean()
    .describe(
      "The agent was retired: the session cannot be continued, and its name may now belong to another agent",
    ),
  surface: z.string(),
  title: z.string().nullable(),
  status: z.string(),
  created_at: timestamp,
  last_activity_at: timestamp,
});

export const closedSession = sessionSummary.extend({
  runtime_closed: z
    .boolean()
    .describe(
      "The runtime's own session was ended too (or it had none); false when the runtime could not be reached: it ends at that runtime's idle timeout",
    ),
});

export const sessionList = z.object({
  items: z.array(sessionSummary),
  next_cursor: z.string().nullable(),
});

export const sessionDetail = sessionSummary.extend({
  transcript: z.array(
    z.object({
      role: z.enum(["user", "agent", "system"]),
      content: z.string(),
      run_id: uuid.nullable(),
      at: timestamp,
    }),
  ),
  runs: z.array(runResponse),
});

export const runEventStream = z
  .string()
  .describe(
    "Server-Sent Events: `id` is the event's seq, `event` its type (run.status, runtime.status, message.delta, tool.use, message, usage, attempt.failed), `data` its JSON. A queued run that must wait for a place (its person or agent has as many runs in progress as allowed) gets a run.status `waiting` with a `reason` and a `message` for the person. The stream ends after the run's closing run.status event.",
  );
