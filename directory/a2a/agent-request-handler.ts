import { randomUUID } from "node:crypto";
import {
  type AgentCard,
  type CancelTaskRequest,
  type GetTaskRequest,
  type Message,
  Role,
  type SendMessageRequest,
  type StreamResponse,
  type SubscribeToTaskRequest,
  type Task,
} from "@a2a-js/sdk";
import {
  ContentTypeNotSupportedError,
  ExtendedAgentCardNotConfiguredError,
  PushNotificationNotSupportedError,
  RequestMalformedError,
  TaskNotFoundError,
  UnsupportedOperationError,
} from "@a2a-js/sdk/errors";
import type { A2ARequestHandler } from "@a2a-js/sdk/server";
import type { UserPrincipal } from "../../authz/index.js";
import { isSwitchboardError } from "../../core/index.js";
import {
  isClosingEvent,
  type Run,
  type RunsService,
  type StartedRun,
} from "../../sessions/index.js";
import type { Agent } from "../registry/index.js";
import { SwitchboardRefusal, toProtocolError } from "./protocol-errors.js";
import { isInterrupted, stateOf, TaskUpdates, taskOf } from "./run-tasks.js";

/** How long CancelTask waits for the run to stop before answering with its state then. */
const CANCEL_WAIT_MS = 10_000;

export interface AgentRequestContext {
  agent: Agent;
  card: AgentCard;
  /** The caller, as their API key says; runs they start are theirs and their team's. */
  principal: UserPrincipal;
  runs: RunsService;
  /** The site's address, for links to sessions. */
  siteUrl: string;
  /** Aborted when the caller goes away: following a run stops (the run does not). */
  signal: AbortSignal;
}

/** The person's text: every text part of the message, in order. */
function inputOf(message: Message | undefined): string {
  if (!message) throw new RequestMalformedError("Send a message: params.message is missing.");
  if (message.role === Role.ROLE_AGENT) {
    throw new RequestMalformedError("The message must be the user's (role user), not the agent's.");
  }
  const texts: string[] = [];
  for (const part of message.parts) {
    if (part.content?.$case !== "text") {
      throw new ContentTypeNotSupportedError(
        "This agent takes text only: send the request as text parts (files and data parts are not accepted).",
      );
    }
    texts.push(part.content.value);
  }
  return texts.join("\n");
}

/**
 * One agent's A2A requests for one caller, over the runs engine: a message starts a run in
 * the context's session (the same admission as every surface: access, the agent's state,
 * fairness, budgets), the task is that run, and a task is found only among the caller's own
 * runs of this agent. Nothing is kept here: every answer is read from the runs engine.
 */
export class AgentRequestHandler implements A2ARequestHandler {
  constructor(private readonly context: AgentRequestContext) {}

  async getAgentCard(): Promise<AgentCard> {
    return this.context.card;
  }

  async getAuthenticatedExtendedAgentCard(): Promise<AgentCard> {
    throw new ExtendedAgentCardNotConfiguredError(
      "This agent has no extended card: its card is already the one for you.",
    );
  }

  async sendMessage(params: SendMessageRequest): Promise<Message | Task> {
    const started = await this.start(params);
    let run = started.run;
    if (!params.configuration?.returnImmediately && !isInterrupted(stateOf(run))) {
      run = await this.followUntilInterrupted(run);
    }
    return taskOf(run, this.context.siteUrl, params.configuration?.historyLength);
  }

  async *sendMessageStream(params: SendMessageRequest): AsyncGenerator<StreamResponse> {
    const started = await this.start(params);
    yield { payload: { $case: "task", value: taskOf(started.run, this.context.siteUrl) } };
    if (isInterrupted(stateOf(started.run))) return;
    yield* this.updates(started.run);
  }

  async getTask(params: GetTaskRequest): Promise<Task> {
    return taskOf(await this.ownRun(params.id), this.context.siteUrl, params.historyLength);
  }

  async cancelTask(params: CancelTaskRequest): Promise<Task> {
    const run = await this.ownRun(params.id);
    try {
      await this.context.runs.cancel(this.context.principal, run.id);
    } catch (error) {
      throw toProtocolError(error, "task");
    }
    // A running run stops at its worker: wait a moment so the answer says "canceled".
    const signal = AbortSignal.any([this.context.signal, AbortSignal.timeout(CANCEL_WAIT_MS)]);
    return taskOf(await this.followUntilInterrupted(run, signal), this.context.siteUrl);
  }

  async *resubscribe(params: SubscribeToTaskRequest): AsyncGenerator<StreamResponse> {
    const run = await this.ownRun(params.id);
    yield { payload: { $case: "task", value: taskOf(run, this.context.siteUrl) } };
    if (isInterrupted(stateOf(run))) return;
    yield* this.updates(run);
  }

  async listTasks(): Promise<never> {
    throw new UnsupportedOperationError(
      "Listing tasks is not offered; your sessions and their runs are at GET /api/v1/sessions.",
    );
  }

  async createTaskPushNotificationConfig(): Promise<never> {
    throw new PushNotificationNotSupportedError(
      "Push notifications are not offered; stream instead.",
    );
  }

  async getTaskPushNotificationConfig(): Promise<never> {
    return this.createTaskPushNotificationConfig();
  }

  async listTaskPushNotificationConfigs(): Promise<never> {
    return this.createTaskPushNotificationConfig();
  }

  async deleteTaskPushNotificationConfig(): Promise<never> {
    return this.createTaskPushNotificationConfig();
  }

  /**
   * A run in the message's context: none opens a new session (surface `a2a`); a context is
   * one of the caller's own sessions with this agent, else it is refused.
   */
  private async start(params: SendMessageRequest): Promise<StartedRun> {
    const { agent, principal, runs } = this.context;
    const input = inputOf(params.message);
    const contextId = params.message?.contextId || undefined;
    if (params.message?.taskId) {
      throw new UnsupportedOperationError(
        `Each message starts a new task: send it without taskId (${params.message.taskId}), with the contextId to continue that conversation.`,
      );
    }
    try {
      return await runs.start(principal, {
        agentName: agent.name,
        input,
        sessionId: contextId,
        conversation: contextId
          ? undefined
          : { surface: "a2a", conversationKey: randomUUID(), title: input.slice(0, 120) },
      });
    } catch (error) {
      if (contextId && isSwitchboardError(error) && error.status === 404) {
        throw new SwitchboardRefusal(
          `The context ${contextId} is not one of your conversations with "${agent.name}"; leave contextId out to start a new one.`,
          "unknown_context",
        );
      }
      throw toProtocolError(error, "message");
    }
  }

  /** The caller's own run of this agent; anyone else's is "not found", as a missing one. */
  private async ownRun(taskId: string): Promise<Run> {
    const missing = () => new TaskNotFoundError(`The task ${taskId} was not found.`);
    let found: Run;
    try {
      found = (await this.context.runs.get(this.context.principal, taskId)).run;
    } catch (error) {
      if (isSwitchboardError(error) && error.status === 404) throw missing();
      throw error;
    }
    if (found.userId !== this.context.principal.userId || found.agentId !== this.context.agent.id) {
      throw missing();
    }
    return found;
  }

  private async readRun(runId: string): Promise<Run> {
    return (await this.context.runs.get(this.context.principal, runId)).run;
  }

  /** Follows the run until it ends or waits for an approver (or `signal`), then reads it. */
  private async followUntilInterrupted(
    run: Run,
    signal: AbortSignal = this.context.signal,
  ): Promise<Run> {
    const stop = new AbortController();
    const both = AbortSignal.any([signal, stop.signal]);
    try {
      for await (const event of this.context.runs.follow(run.id, 0, both)) {
        if (isClosingEvent(event)) break;
        const status = event.type === "run.status" ? event.data : undefined;
        if (status?.status === "needs_approval" || status?.reason === "needs_approval") break;
      }
    } catch (error) {
      if (!both.aborted) throw error;
    } finally {
      stop.abort();
    }
    return this.readRun(run.id);
  }

  /** The run's events as stream updates, until it ends or waits for an approver. */
  private async *updates(run: Run): AsyncGenerator<StreamResponse> {
    const updates = new TaskUpdates(run, this.context.siteUrl);
    const stop = new AbortController();
    const signal = AbortSignal.any([this.context.signal, stop.signal]);
    try {
      for await (const event of this.context.runs.follow(run.id, 0, signal)) {
        for (const update of await updates.of(event, () => this.readRun(run.id))) {
          yield update;
          const state =
            update.payload?.$case === "statusUpdate"
              ? update.payload.value.status?.state
              : undefined;
          if (state !== undefined && isInterrupted(state)) return;
        }
        if (isClosingEvent(event)) return;
      }
    } finally {
      stop.abort();
    }
  }
}
