import { createHash } from "node:crypto";
import Anthropic from "@anthropic-ai/sdk";
import type { Agent } from "undici";
import { checkedAgent, checkedFetch, EgressPolicy } from "../egress/index.js";
import type {
  AgentRuntime,
  RuntimeEvent,
  RuntimeHandle,
  SecretResolver,
  TurnRequest,
} from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { primeWithTranscript, sessionRestarted } from "../transcript.js";
import { isAbort, isSessionGone, RUNTIME_NAME, toRuntimeError } from "./errors.js";
import { minorUnits } from "./list-cost.js";
import { NameLookup } from "./lookup.js";
import {
  budgetLimit,
  budgetReachedError,
  budgetUpdate,
  sessionBudgetCents,
} from "./session-budget.js";
import { type ClaudeManagedAgentsSettings, claudeManagedAgentsSettings } from "./settings.js";
import { TurnReader } from "./turn-reader.js";

/** The Managed Agents session a turn talks to, and what it needs from it. */
interface OpenSession {
  id: string;
  /** What this turn sends: the input, or the transcript and the input for a new session. */
  text: string;
  model: string | undefined;
  /** The session's list cost (cents) before this turn, to tell this turn's share. */
  costBeforeMinor: number;
}

type Client = Anthropic;

function sessionIdOf(handle: RuntimeHandle | null): string | undefined {
  const id = handle?.sessionId;
  return typeof id === "string" && id ? id : undefined;
}

/**
 * Runs an agent on Claude Managed Agents through `@anthropic-ai/sdk`. One Switchboard
 * session is one Managed Agents session, opened on the first turn on the agent and
 * environment the manifest names; each turn sends a `user.message` and reads the session's
 * event stream until the agent goes idle.
 *
 * The SDK's own retries are off: the runs engine retries turns, with its backoff, and a
 * second retry loop underneath would resend messages the engine thinks failed.
 */
export class ClaudeManagedAgentsRuntime implements AgentRuntime<ClaudeManagedAgentsSettings> {
  readonly type = "claude-managed-agents";
  readonly settings = claudeManagedAgentsSettings;
  private readonly clients = new Map<string, Client>();
  private readonly names = new NameLookup();
  private readonly interruptTimeoutMs: number;
  private readonly dispatcher: Agent;
  private readonly fetch: typeof fetch;

  /** `egress`: where the API may be (a base_url); without it, internal addresses are refused. */
  constructor(options: { interruptTimeoutMs?: number; egress?: EgressPolicy } = {}) {
    this.interruptTimeoutMs = options.interruptTimeoutMs ?? 5_000;
    this.dispatcher = checkedAgent(options.egress ?? new EgressPolicy());
    this.fetch = checkedFetch(this.dispatcher);
  }

  async *turn(request: TurnRequest<ClaudeManagedAgentsSettings>): AsyncIterable<RuntimeEvent> {
    const apiKey = await request.secrets(request.settings.api_key);
    const { client, account } = this.clientFor(request.settings, apiKey);
    // Our own controller: aborting it stops the stream we are reading and any call in flight.
    const controller = new AbortController();
    const stop = () => controller.abort();
    request.signal.addEventListener("abort", stop, { once: true });
    if (request.signal.aborted) return;
    let session: OpenSession | undefined;
    let sendAttempted = false;
    try {
      session = yield* this.open(client, account, request, controller.signal);
      const stream = await client.beta.sessions.events.stream(
        session.id,
        { event_deltas: ["agent.message"] },
        { signal: controller.signal },
      );
      // The stream is open before the message goes, so no event of this turn is missed.
      sendAttempted = true;
      await client.beta.sessions.events.send(
        session.id,
        { events: [{ type: "user.message", content: [{ type: "text", text: session.text }] }] },
        { signal: controller.signal },
      );
      const { maxCostUsdPerRun: usd } = request;
      const reader = new TurnReader(() =>
        budgetReachedError(usd === undefined ? undefined : { agentName: request.agent.name, usd }),
      );
      for await (const event of stream) {
        for (const out of reader.read(event)) yield out;
        if (reader.end) break;
      }
      if (request.signal.aborted) {
        await this.interrupt(client, session.id);
        return;
      }
      const usage = await this.usage(client, session, reader);
      if (!reader.end) {
        if (usage) yield usage;
        throw new RuntimeError(
          RUNTIME_ERROR_CODES.unavailable,
          `The ${RUNTIME_NAME} event stream closed before the agent finished; the turn will be tried again.`,
          { retryable: true },
        );
      }
      if (reader.end.kind !== "failed" && reader.answer) {
        yield { type: "message", text: reader.answer };
      }
      if (usage) yield usage;
      if (reader.end.kind === "failed") {
        // A session paused at its cap resumes that work when the cap is raised (the next
        // run's turn raises it): the agent is told to drop it now, so only the next message runs.
        if (reader.end.error.code === RUNTIME_ERROR_CODES.costLimit) {
          await this.interrupt(client, session.id);
        }
        throw reader.end.error;
      }
    } catch (error) {
      // A cancelled run ends quietly, whatever the abort broke on its way out.
      if (request.signal.aborted) {
        if (session && sendAttempted) await this.interrupt(client, session.id);
        return;
      }
      throw toRuntimeError(error, { what: "session" });
    } finally {
      request.signal.removeEventListener("abort", stop);
      controller.abort();
    }
  }

  /**
   * Archives the session when Switchboard closes its own: it stops taking turns but keeps
   * its transcript in the Console for review. A session already gone is fine.
   */
  async closeSession(
    settings: ClaudeManagedAgentsSettings,
    handle: RuntimeHandle,
    secrets: SecretResolver,
  ): Promise<void> {
    const id = sessionIdOf(handle);
    if (!id) return;
    const apiKey = await secrets(settings.api_key);
    const { client } = this.clientFor(settings, apiKey);
    try {
      await client.beta.sessions.archive(id);
    } catch (error) {
      if (isSessionGone(error)) return;
      throw toRuntimeError(error, { what: "session" });
    }
  }

  async close(): Promise<void> {
    this.clients.clear();
    await this.dispatcher.close();
  }

  /** One SDK client per API address and key, made on first use. */
  private clientFor(
    settings: ClaudeManagedAgentsSettings,
    apiKey: string,
  ): { client: Client; account: string } {
    const digest = createHash("sha256").update(apiKey).digest("hex").slice(0, 16);
    const account = `${settings.base_url ?? "default"} ${digest}`;
    let client = this.clients.get(account);
    if (!client) {
      // Quiet: the SDK would log a malformed event's raw data, which may hold what people wrote.
      client = new Anthropic({
        apiKey,
        baseURL: settings.base_url,
        maxRetries: 0,
        logLevel: "off",
        // Every call, and every redirect it follows, connects through the checked dialer.
        fetch: this.fetch,
      });
      this.clients.set(account, client);
    }
    return { client, account };
  }

  /**
   * The session this turn continues (the handle's, when it still takes turns) or a new one,
   * primed with the transcript when it replaces a lost one. Yields the handle at once.
   */
  private async *open(
    client: Client,
    account: string,
    request: TurnRequest<ClaudeManagedAgentsSettings>,
    signal: AbortSignal,
  ): AsyncGenerator<RuntimeEvent, OpenSession> {
    const existing = sessionIdOf(request.handle);
    let lost: string | undefined;
    if (existing) {
      try {
        const found = await client.beta.sessions.retrieve(existing, {}, { signal });
        if (found.status === "terminated") lost = "it had ended";
        else if (found.archived_at) lost = "it was archived";
        else {
          yield { type: "handle", handle: { sessionId: found.id } };
          const costBeforeMinor = minorUnits(found.usage?.list_cost) ?? 0;
          const budget = budgetUpdate(found.budget, costBeforeMinor, request.maxCostUsdPerRun);
          if (budget !== undefined) {
            await client.beta.sessions.update(found.id, { budget }, { signal });
          }
          return {
            id: found.id,
            text: request.input,
            model: found.agent?.model?.id,
            costBeforeMinor,
          };
        }
      } catch (error) {
        if (isAbort(error) || !isSessionGone(error)) throw error;
        lost = "Managed Agents no longer knows it";
      }
    }
    const { settings } = request;
    const [agentId, environmentId] = await Promise.all([
      this.names.resolve(client, account, "agent", settings.agent),
      this.names.resolve(client, account, "environment", settings.environment),
    ]);
    let created: Awaited<ReturnType<Client["beta"]["sessions"]["create"]>>;
    try {
      created = await client.beta.sessions.create(
        {
          agent:
            settings.agent_version === undefined
              ? agentId
              : { type: "agent", id: agentId, version: settings.agent_version },
          environment_id: environmentId,
          metadata: { switchboard_session_id: request.sessionId },
          ...(request.maxCostUsdPerRun === undefined
            ? {}
            : { budget: budgetLimit(sessionBudgetCents(0, request.maxCostUsdPerRun)) }),
        },
        { signal },
      );
    } catch (error) {
      if (isAbort(error)) throw error;
      throw toRuntimeError(error, {
        what: "create-session",
        agent: settings.agent,
        environment: settings.environment,
      });
    }
    yield { type: "handle", handle: { sessionId: created.id } };
    yield lost ? sessionRestarted(lost) : { type: "status", status: "session_started" };
    return {
      id: created.id,
      text: primeWithTranscript(request.transcript, request.input),
      model: created.agent?.model?.id,
      costBeforeMinor: minorUnits(created.usage?.list_cost) ?? 0,
    };
  }

  /** Tells the agent to stop; best effort and bounded, since the run is already over for us. */
  private async interrupt(client: Client, sessionId: string): Promise<void> {
    try {
      await client.beta.sessions.events.send(
        sessionId,
        { events: [{ type: "user.interrupt" }] },
        { signal: AbortSignal.timeout(this.interruptTimeoutMs) },
      );
    } catch {
      // The session may be gone or the API unreachable: nothing more to stop.
    }
  }

  /**
   * This turn's tokens (from its model requests) and its cost: the growth of the session's
   * `list_cost`, read from the stream's usage snapshot or, when none came, from the session.
   */
  private async usage(
    client: Client,
    session: OpenSession,
    reader: TurnReader,
  ): Promise<RuntimeEvent | undefined> {
    const tokens = reader.tokens;
    if (tokens.inputTokens + tokens.outputTokens === 0 && reader.listCostMinor === undefined) {
      return undefined;
    }
    let costNow = reader.listCostMinor;
    if (costNow === undefined) {
      try {
        const found = await client.beta.sessions.retrieve(
          session.id,
          {},
          {
            signal: AbortSignal.timeout(this.interruptTimeoutMs),
          },
        );
        costNow = minorUnits(found.usage?.list_cost);
      } catch {
        costNow = undefined;
      }
    }
    const costUsd =
      costNow === undefined ? undefined : Math.max(0, costNow - session.costBeforeMinor) / 100;
    return {
      type: "usage",
      usage: {
        ...(session.model ? { model: session.model } : {}),
        inputTokens: tokens.inputTokens,
        outputTokens: tokens.outputTokens,
        cacheReadTokens: tokens.cacheReadTokens,
        cacheWriteTokens: tokens.cacheWriteTokens,
        ...(costUsd === undefined ? {} : { costUsd }),
      },
    };
  }
}
