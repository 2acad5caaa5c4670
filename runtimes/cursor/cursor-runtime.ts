import { setTimeout as sleep } from "node:timers/promises";
import type { Agent } from "undici";
import { checkedAgent, EgressPolicy } from "../egress/index.js";
import { excerpt } from "../excerpt.js";
import type {
  AgentRuntime,
  RuntimeEvent,
  RuntimeHandle,
  RuntimeUsage,
  SecretResolver,
  TurnRequest,
} from "../runtime.js";
import { RUNTIME_ERROR_CODES, RuntimeError } from "../runtime-error.js";
import { readServerSentEvents } from "../sse-reader.js";
import { primeWithTranscript, sessionRestarted } from "../transcript.js";
import { badResponse, CURSOR, CursorApi, type Json, statusError } from "./api.js";
import { type RunEnd, RunReader, TERMINAL, workLinks } from "./run-reader.js";
import { type CursorSettings, cursorSettings } from "./settings.js";

type Request = TurnRequest<CursorSettings>;

/** The Cursor run a turn reads: its agent, and the run itself. */
interface CursorRun {
  agentId: string;
  runId: string;
}

/**
 * The handle: the Cursor agent (the session), and the run the last turn started with the
 * Switchboard run it started it for. A retry of that same Switchboard run reads that Cursor
 * run again instead of sending the prompt twice.
 */
interface CursorHandle {
  agentId: string;
  runId?: string;
  forRun?: string;
}

function handleOf(raw: RuntimeHandle | null): CursorHandle | undefined {
  if (typeof raw?.agentId !== "string" || !raw.agentId) return undefined;
  return {
    agentId: raw.agentId,
    ...(typeof raw.runId === "string" ? { runId: raw.runId } : {}),
    ...(typeof raw.forRun === "string" ? { forRun: raw.forRun } : {}),
  };
}

const agentPath = (agentId: string) => `/v1/agents/${encodeURIComponent(agentId)}`;
const runPath = (run: CursorRun) =>
  `${agentPath(run.agentId)}/runs/${encodeURIComponent(run.runId)}`;

/**
 * Runs an agent on Cursor's Cloud Agents API v1 (https://cursor.com/docs/cloud-agent/api/endpoints).
 * One Switchboard session is one Cursor agent: the first turn creates it on the manifest's
 * repository and ref (which enqueues its first run), later turns are follow-up runs on it.
 * A run is read from its SSE stream, or by polling it (`stream: false`, or once Cursor no
 * longer keeps the stream). Only one run may be active per agent: a follow-up answered
 * `409 agent_busy` waits and asks again. Cancelling stops the run at Cursor.
 *
 * Cursor's API reports tokens but no price: each run is booked at the manifest's
 * `price_per_run_usd`, marked as an estimate.
 */
export class CursorRuntime implements AgentRuntime<CursorSettings> {
  readonly type = "cursor";
  readonly settings = cursorSettings;
  private readonly dispatcher: Agent;
  private readonly pollMs: number | undefined;
  private readonly cancelTimeoutMs: number;

  /**
   * `egress`: where the API may be (a base_url); without it, internal addresses are refused.
   * `pollMs` overrides the manifest's poll_seconds (tests).
   */
  constructor(options: { egress?: EgressPolicy; pollMs?: number; cancelTimeoutMs?: number } = {}) {
    this.dispatcher = checkedAgent(options.egress ?? new EgressPolicy());
    this.pollMs = options.pollMs;
    this.cancelTimeoutMs = options.cancelTimeoutMs ?? 5_000;
  }

  async *turn(request: Request): AsyncIterable<RuntimeEvent> {
    const api = new CursorApi(
      request.settings.base_url,
      await request.secrets(request.settings.api_key),
      this.dispatcher,
    );
    const signal = request.signal;
    if (signal.aborted) return;
    let run: CursorRun | undefined;
    try {
      run = yield* this.start(api, request);
      const end = request.settings.stream
        ? yield* this.streamed(api, run, request)
        : yield* this.polled(api, run, request, new RunReader());
      if (!end) {
        await this.cancel(api, run);
        return;
      }
      yield* this.finish(api, run, end, request);
    } catch (error) {
      // A cancelled run ends quietly, whatever the abort broke on its way out.
      if (signal.aborted) {
        if (run) await this.cancel(api, run);
        return;
      }
      throw error;
    }
  }

  /** Archives the agent when Switchboard closes its session: it stays readable in Cursor. */
  async closeSession(
    settings: CursorSettings,
    raw: RuntimeHandle,
    secrets: SecretResolver,
  ): Promise<void> {
    const handle = handleOf(raw);
    if (!handle) return;
    const api = new CursorApi(settings.base_url, await secrets(settings.api_key), this.dispatcher);
    const reply = await api.call(
      "POST",
      `${agentPath(handle.agentId)}/archive`,
      AbortSignal.timeout(this.cancelTimeoutMs),
    );
    if (reply.status >= 300 && reply.status !== 404) throw statusError(reply);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /**
   * The run this turn reads: the one an earlier try of this same Switchboard run started, a
   * follow-up on the session's agent, or the first run of a new agent (primed with the
   * transcript when it replaces one Cursor lost). Yields the handle as soon as it is known.
   */
  private async *start(api: CursorApi, request: Request): AsyncGenerator<RuntimeEvent, CursorRun> {
    const handle = handleOf(request.handle);
    if (handle?.runId && handle.forRun === request.runId) {
      yield { type: "handle", handle: { ...handle } };
      return { agentId: handle.agentId, runId: handle.runId };
    }
    let lost: string | undefined;
    if (handle) {
      const runId = yield* this.followUp(api, request, handle.agentId);
      if (runId) {
        yield { type: "handle", handle: { agentId: handle.agentId, runId, forRun: request.runId } };
        return { agentId: handle.agentId, runId };
      }
      lost = "Cursor no longer has its agent, or it was archived";
    }
    const { settings } = request;
    const reply = await api.call("POST", "/v1/agents", request.signal, {
      prompt: { text: primeWithTranscript(request.transcript, request.input) },
      name: excerpt(`Switchboard: ${request.agent.name}`, 100),
      repos: [
        {
          url: settings.repository,
          ...(settings.ref === undefined ? {} : { startingRef: settings.ref }),
        },
      ],
      ...(settings.model === undefined ? {} : { model: { id: settings.model } }),
      ...(settings.work_on_current_branch === undefined
        ? {}
        : { workOnCurrentBranch: settings.work_on_current_branch }),
      ...(settings.auto_create_pr === undefined ? {} : { autoCreatePR: settings.auto_create_pr }),
      ...(settings.skip_reviewer_request === undefined
        ? {}
        : { skipReviewerRequest: settings.skip_reviewer_request }),
      ...(settings.mode === undefined ? {} : { mode: settings.mode }),
    });
    if (reply.status < 200 || reply.status >= 300) throw statusError(reply);
    const agentId = reply.body?.agent?.id;
    const runId = reply.body?.run?.id;
    if (typeof agentId !== "string" || typeof runId !== "string") {
      throw badResponse("the new agent or its run has no id");
    }
    yield { type: "handle", handle: { agentId, runId, forRun: request.runId } };
    const where = typeof reply.body.agent.url === "string" ? reply.body.agent.url : agentId;
    if (lost) {
      yield sessionRestarted(lost);
    } else {
      yield {
        type: "status",
        status: "session_started",
        message: `Cursor agent: ${excerpt(where, 300)}`,
      };
    }
    return { agentId, runId };
  }

  /**
   * A follow-up run on the agent; undefined when the agent is gone (404, or archived or
   * expired). While another run is active Cursor answers `409 agent_busy`: wait, ask again.
   */
  private async *followUp(
    api: CursorApi,
    request: Request,
    agentId: string,
  ): AsyncGenerator<RuntimeEvent, string | undefined> {
    let waiting = false;
    for (;;) {
      const reply = await api.call("POST", `${agentPath(agentId)}/runs`, request.signal, {
        prompt: { text: request.input },
      });
      if (reply.status >= 200 && reply.status < 300) {
        const runId = reply.body?.run?.id;
        if (typeof runId !== "string") throw badResponse("the follow-up run has no id");
        return runId;
      }
      if (reply.status === 409 && reply.code === "agent_busy") {
        if (!waiting) {
          waiting = true;
          yield {
            type: "status",
            status: "waiting",
            message:
              "The Cursor agent is still busy with an earlier run; waiting for it to finish.",
          };
        }
        await sleep(this.pollMsFor(request), undefined, { signal: request.signal });
        continue;
      }
      if (reply.status === 404 || reply.status === 410) return undefined;
      if (reply.status === 400 || reply.status === 409) {
        // An archived or expired agent takes no runs; anything else is a real refusal.
        const agent = await api.call("GET", agentPath(agentId), request.signal);
        if (agent.status === 404 || agent.body?.status === "ARCHIVED") return undefined;
      }
      throw statusError(reply);
    }
  }

  /** Reads the run's event stream; falls back to polling when Cursor no longer keeps it. */
  private async *streamed(
    api: CursorApi,
    run: CursorRun,
    request: Request,
  ): AsyncGenerator<RuntimeEvent, RunEnd | undefined> {
    const reader = new RunReader();
    const response = await api.stream(`${runPath(run)}/stream`, request.signal);
    const contentType = String(response.headers["content-type"] ?? "");
    if (response.statusCode === 410) {
      // stream_expired: the documented signal to read the run's terminal state instead.
      await response.body.dump();
      return yield* this.polled(api, run, request, reader);
    }
    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => "");
      throw statusError({ status: response.statusCode, body: undefined, code: undefined, text });
    }
    if (!contentType.startsWith("text/event-stream")) {
      response.body.destroy();
      throw badResponse(
        `its run stream is ${excerpt(contentType, 60) || "without a content type"}, not server-sent events`,
      );
    }
    try {
      for await (const event of readServerSentEvents(response.body)) {
        for (const out of reader.read(event)) yield out;
        if (reader.done) break;
      }
    } catch (error) {
      if (request.signal.aborted || error instanceof RuntimeError) throw error;
      throw droppedStream(error);
    } finally {
      if (!response.body.destroyed) {
        response.body.on("error", () => {});
        response.body.destroy();
      }
    }
    if (request.signal.aborted) return undefined;
    if (!reader.end) throw droppedStream();
    return withStreamedText(reader.end, reader);
  }

  /** Polls the run until it ends (Get A Run), yielding its status as it changes. */
  private async *polled(
    api: CursorApi,
    run: CursorRun,
    request: Request,
    reader: RunReader,
  ): AsyncGenerator<RuntimeEvent, RunEnd | undefined> {
    for (;;) {
      const reply = await api.call("GET", runPath(run), request.signal);
      if (reply.status < 200 || reply.status >= 300) throw statusError(reply);
      const status = reply.body?.status;
      if (typeof status !== "string") throw badResponse("the run has no status");
      for (const out of reader.statusChanged(status)) yield out;
      if (TERMINAL.has(status)) {
        return withStreamedText(
          {
            status,
            text: typeof reply.body.result === "string" ? reply.body.result : undefined,
            git: reply.body.git,
          },
          reader,
        );
      }
      await sleep(this.pollMsFor(request), undefined, { signal: request.signal });
    }
  }

  /** The run's answer with its branch or pull request, its usage, or its failure in words. */
  private async *finish(
    api: CursorApi,
    run: CursorRun,
    end: RunEnd,
    request: Request,
  ): AsyncGenerator<RuntimeEvent> {
    if (end.status === "FINISHED") {
      const links = workLinks(end.git);
      const text = [end.text ?? "", links.join("\n")].filter(Boolean).join("\n\n");
      yield { type: "message", text };
      yield { type: "usage", usage: await this.usage(api, run, request) };
      return;
    }
    if (end.status === "ERROR") {
      // The run did work before it failed: Cursor bills it, so it is booked.
      yield { type: "usage", usage: await this.usage(api, run, request) };
      throw new RuntimeError(
        RUNTIME_ERROR_CODES.agentFailed,
        `The Cursor agent's run failed${end.text ? `: ${excerpt(end.text)}` : "."}`,
      );
    }
    const why =
      end.status === "CANCELLED"
        ? "was cancelled in Cursor before it finished"
        : end.status === "EXPIRED"
          ? "expired in Cursor before it finished"
          : `ended as ${excerpt(end.status, 40)}`;
    throw new RuntimeError(RUNTIME_ERROR_CODES.agentFailed, `The Cursor run ${why}.`);
  }

  /**
   * This run's tokens (Get Agent Usage, scoped to the run) and its estimated cost. The cost is
   * booked even when the tokens cannot be read: the run happened either way.
   */
  private async usage(api: CursorApi, run: CursorRun, request: Request): Promise<RuntimeUsage> {
    const usage: RuntimeUsage = {
      model: request.settings.model ?? "cursor-default",
      inputTokens: 0,
      outputTokens: 0,
      costUsd: request.settings.price_per_run_usd,
      costEstimated: true,
    };
    try {
      const reply = await api.call(
        "GET",
        `${agentPath(run.agentId)}/usage?runId=${encodeURIComponent(run.runId)}`,
        AbortSignal.any([request.signal, AbortSignal.timeout(this.cancelTimeoutMs)]),
      );
      const runs: Json[] = Array.isArray(reply.body?.runs) ? reply.body.runs : [];
      const found = runs.find((entry) => entry?.id === run.runId)?.usage;
      const count = (name: string) =>
        typeof found?.[name] === "number" && found[name] >= 0 ? (found[name] as number) : 0;
      if (reply.status === 200 && found) {
        usage.inputTokens = count("inputTokens");
        usage.outputTokens = count("outputTokens");
        usage.cacheReadTokens = count("cacheReadTokens");
        usage.cacheWriteTokens = count("cacheWriteTokens");
      }
    } catch {
      // Tokens are a nicety here; the estimate above is what the ledger needs.
    }
    return usage;
  }

  /** Stops the run at Cursor; best effort and bounded (409 run_not_cancellable: it had ended). */
  private async cancel(api: CursorApi, run: CursorRun): Promise<void> {
    try {
      await api.call("POST", `${runPath(run)}/cancel`, AbortSignal.timeout(this.cancelTimeoutMs));
    } catch {
      // Cursor unreachable: nothing more to stop from here.
    }
  }

  private pollMsFor(request: Request): number {
    return this.pollMs ?? request.settings.poll_seconds * 1000;
  }
}

function withStreamedText(end: RunEnd, reader: RunReader): RunEnd {
  return end.text === undefined && reader.streamed ? { ...end, text: reader.streamed } : end;
}

function droppedStream(cause?: unknown): RuntimeError {
  return new RuntimeError(
    RUNTIME_ERROR_CODES.unavailable,
    `${CURSOR}'s event stream closed before the run finished; the turn will be tried again, reading the same run.`,
    { retryable: true, cause },
  );
}
