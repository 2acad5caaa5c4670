import {
  type AgentRuntime,
  allowedEnvironment,
  type RuntimeEvent,
  type RuntimeHandle,
  type TranscriptMessage,
} from "../../runtimes/index.js";

export interface TurnOutcome {
  events: RuntimeEvent[];
  /** The final message, or the deltas joined when there was none. */
  text: string;
  /** The last handle the turn yielded. */
  handle: RuntimeHandle | null;
  error: unknown;
}

let runCounter = 0;

/** Runs one turn to its end the way the engine does, collecting what it yielded. */
export async function collectTurn(
  runtime: AgentRuntime,
  rawSettings: Record<string, unknown>,
  turn: {
    sessionId: string;
    input: string;
    handle?: RuntimeHandle | null;
    transcript?: TranscriptMessage[];
    signal?: AbortSignal;
    /** What `{ env: NAME }` references resolve against: these names, as an operator allowed them. */
    env?: Record<string, string>;
    onEvent?: (event: RuntimeEvent) => void;
    /** Switchboard's run id: the same one again is a retry of that run. */
    runId?: string;
    /** The agent's max_cost_usd_per_run, as the engine hands it over. */
    maxCostUsdPerRun?: number;
    /** The person's opaque id, as the engine hands it over. */
    personId?: string;
    /** The run's model proxy access, as the engine hands it over. */
    modelProxy?: { baseUrl: string; apiKey: string };
  },
): Promise<TurnOutcome> {
  const settings = runtime.settings.parse(rawSettings);
  const events: RuntimeEvent[] = [];
  let error: unknown;
  try {
    for await (const event of runtime.turn({
      settings,
      agent: { id: "00000000-0000-4000-8000-000000000001", name: "contract-agent" },
      sessionId: turn.sessionId,
      personId: turn.personId,
      handle: turn.handle ?? null,
      input: turn.input,
      transcript: turn.transcript ?? [],
      runId: turn.runId ?? `run-${++runCounter}`,
      attempt: 1,
      signal: turn.signal ?? new AbortController().signal,
      secrets: allowedEnvironment(turn.env ?? {}, Object.keys(turn.env ?? {})),
      maxCostUsdPerRun: turn.maxCostUsdPerRun,
      modelProxy: turn.modelProxy,
    })) {
      events.push(event);
      turn.onEvent?.(event);
    }
  } catch (caught) {
    error = caught;
  }
  const final = events.findLast((event) => event.type === "message");
  const text =
    final?.type === "message"
      ? final.text
      : events.map((event) => (event.type === "message_delta" ? event.text : "")).join("");
  const lastHandle = events.findLast((event) => event.type === "handle");
  return {
    events,
    text,
    handle: lastHandle?.type === "handle" ? lastHandle.handle : (turn.handle ?? null),
    error,
  };
}
