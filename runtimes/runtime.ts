import type { z } from "zod";

/**
 * The one interface every agent runtime is driven through: A2A agents, Claude Managed
 * Agents, n8n workflows, home-grown HTTP agents, Databricks agents, Bedrock AgentCore, the
 * built-in demo, and later Cursor and sandboxes on E2B or Daytona.
 *
 * An adapter runs ONE TURN of a conversation: it starts the runtime's own session (or
 * continues the one named by `handle`), sends the person's input, and yields normalized
 * events as the runtime answers. Everything else stays out of it, in `sessions/`:
 * - queueing, ordering turns within a session, retries and their backoff, leases and
 *   recovery after a crash: the engine decides when and how often `turn` is called;
 * - persistence: the engine stores every event, the transcript and the handle;
 * - authorization, budgets and cost attribution to people and teams: adapters report
 *   usage, the engine books it;
 * - who is asking: an adapter sees a session id, text and an opaque person id (`personId`),
 *   never a Switchboard user or an email.
 *
 * Shapes later runtimes need fit here: a sandbox (E2B, Daytona) keeps its id in the
 * handle, resumes it at the start of `turn` and pauses it before returning; a runtime with
 * long runs that must be polled (Cursor, AgentCore) polls inside `turn`, yielding `status`
 * events as it goes, and honours `signal` between polls.
 */
export interface AgentRuntime<Settings = unknown> {
  /** The manifest's `spec.runtime.type` this adapter answers for. */
  readonly type: string;
  /**
   * Validates the manifest's `spec.runtime` object (with `type` in it). Messages are read by
   * the agent's owner, so they say what is wrong and what is allowed.
   */
  readonly settings: z.ZodType<Settings>;
  /**
   * One turn. Yields events in order and returns when the turn is over. Throws a
   * `RuntimeError` on failure, with `retryable` true only when the same turn may be tried
   * again (a 5xx, a refused connection, a rate limit).
   *
   * The first thing worth yielding is `handle`, as soon as the runtime's session is known,
   * so a turn that dies halfway is retried in the same runtime session.
   */
  turn(request: TurnRequest<Settings>): AsyncIterable<RuntimeEvent>;
  /**
   * Ends the runtime's own session when Switchboard closes the session (frees a sandbox,
   * archives a Managed Agents session). Optional: many runtimes have nothing to free.
   */
  closeSession?(settings: Settings, handle: RuntimeHandle, secrets: SecretResolver): Promise<void>;
  /** Releases the adapter's clients and sockets when the process stops. */
  close?(): Promise<void>;
}

/** The runtime's own session: whatever the adapter needs to continue it (ids, URLs). JSON. */
export type RuntimeHandle = Record<string, unknown>;

/** One message of a session's transcript, oldest first: the memory that travels. */
export interface TranscriptMessage {
  role: "user" | "agent";
  content: string;
}

export interface TurnRequest<Settings = unknown> {
  /** Validated settings (see `AgentRuntime.settings`), secrets still as references. */
  settings: Settings;
  agent: { id: string; name: string };
  /** Switchboard's session id: stable for the whole conversation; safe to send to a runtime. */
  sessionId: string;
  /**
   * The person this turn is for, as an opaque id: the same for them in every session and
   * process of this deployment, different in another deployment, and not reversible to
   * their user id or email (an HMAC under a per-deployment key). For runtimes that keep
   * per-user state (AgentCore's `runtimeUserId`); send it only where the manifest asks.
   * Set by the runs engine; absent where no person is known (tests, tools).
   */
  personId?: string | undefined;
  /** The handle a previous turn yielded; null on the session's first turn. */
  handle: RuntimeHandle | null;
  /** The person's input for this turn. */
  input: string;
  /**
   * Earlier turns of the session, without this one's input. When the runtime has lost its
   * session (expired, deleted, sandbox gone), the adapter opens a new one primed with this
   * (see `primeWithTranscript`) and yields a `status` event with `session_restarted`.
   */
  transcript: readonly TranscriptMessage[];
  /** Switchboard's run id and this attempt's number (1-based): for the runtime's own logs and idempotency. */
  runId: string;
  attempt: number;
  /**
   * Aborts when the run is cancelled or times out. The adapter stops the runtime's work
   * where the runtime can be told (A2A `tasks/cancel`, a Managed Agents interrupt), stops
   * reading, and returns or throws promptly.
   */
  signal: AbortSignal;
  /**
   * Reads `{ secret: NAME }` / `{ env: NAME }` references in settings, for this turn's agent
   * only. Call it right where the value is used (a header of the runtime call) and keep the
   * value nowhere else: not in events, handles, messages or logs.
   */
  secrets: SecretResolver;
  /**
   * Where the agent sends its own model calls: Switchboard's model proxy, with a key made
   * for this run (the proxy books the spend to the run, its agent and person, and holds the
   * run's budget). Adapters pass it on where the runtime takes it; absent when no proxy is
   * configured.
   */
  modelProxy?: ModelProxyAccess | undefined;
  /**
   * The agent's `max_cost_usd_per_run`, when it sets one. Switchboard holds every run to it
   * whatever the runtime; an adapter whose runtime keeps its own spending cap (Claude
   * Managed Agents' session budget) sets that cap from it too, so the runtime stops the
   * agent itself, between two model requests.
   */
  maxCostUsdPerRun?: number | undefined;
}

/** The model proxy's address and a key that lives as long as the run. */
export interface ModelProxyAccess {
  /** OpenAI- and Anthropic-compatible: `${baseUrl}/v1/chat/completions`, `${baseUrl}/v1/messages`. */
  baseUrl: string;
  apiKey: string;
}

/**
 * Resolves a secret reference from a manifest to its value, checking at that moment that the
 * agent may use it; throws a `RuntimeError` (`missing_secret`) when it may not or it is unset.
 */
export type SecretResolver = (reference: unknown) => Promise<string>;

/** Normalized events, the same for every runtime. */
export type RuntimeEvent =
  /** The runtime's session handle: stored at once and passed back on the next turn. */
  | { type: "handle"; handle: RuntimeHandle }
  /**
   * Progress worth showing a person: `working`, `session_started`, `session_restarted`
   * (the runtime lost its session and a new one was primed with the transcript), a
   * runtime's own state such as `input-required`.
   */
  | { type: "status"; status: string; message?: string }
  /** A piece of the answer as it streams. */
  | { type: "message_delta"; text: string }
  /** The agent used a tool (shown in the run's timeline, not in the answer). */
  | { type: "tool_use"; name: string; input?: unknown; id?: string }
  /** The whole answer of this turn. When absent, the answer is the deltas joined. */
  | { type: "message"; text: string }
  /** Tokens and cost the runtime reports; one event per model. */
  | { type: "usage"; usage: RuntimeUsage };

export interface RuntimeUsage {
  model?: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** The runtime's own price when it reports one (Managed Agents' `list_cost`). */
  costUsd?: number;
  /**
   * True when `costUsd` is Switchboard's estimate (a price per run or second the manifest
   * configures, for runtimes that bill by their own meter, such as Cursor and AgentCore), not a figure
   * the runtime reported. The ledger row says so, so spend views can.
   */
  costEstimated?: boolean;
}
