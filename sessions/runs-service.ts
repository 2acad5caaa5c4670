import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { Logger } from "pino";
import {
  type AccessPolicy,
  agentObject,
  type Principal,
  type UserPrincipal,
} from "../authz/index.js";
import {
  badRequest,
  conflict,
  isUuid,
  notFound,
  SwitchboardError,
  unstorableTextProblem,
} from "../core/index.js";
import type { Approval, ApprovalNotifier, DecisionInput, HeldRuns } from "../governance/index.js";
import type { RuntimeRegistry } from "../runtimes/index.js";
import type { AgentSource, RunnableAgent } from "./engine/agent-source.js";
import type { AgentSecrets } from "./engine/run-executor.js";
import { mayReadHistory, retiredConversation } from "./history-access.js";
import type { RunQueue } from "./queue/run-queue.js";
import {
  FINISHED_STATUSES,
  type Run,
  type RunEvent,
  type Session,
  type SessionSurface,
  type TranscriptEntry,
} from "./records.js";
import { type Admitted, RunAdmission } from "./run-admission.js";
import { followRun } from "./run-follower.js";
import type { RunSignals } from "./signals/run-signals.js";
import { RunStore } from "./store/run-store.js";
import { SessionStore } from "./store/session-store.js";
import { readStartFacts, type StartFacts } from "./store/start-facts.js";

/** Longest input one turn takes: a long document pasted in chat, not a data dump. */
export const MAX_INPUT_CHARS = 100_000;

export interface StartRunRequest {
  agentName: string;
  input: unknown;
  /** Continue this session (the caller's own, of this agent). */
  sessionId?: string | undefined;
  /** Or the conversation it comes from (a Slack thread); unset: a new session. */
  conversation?: { surface: SessionSurface; conversationKey: string; title?: string } | undefined;
  /** Repeats with the same key return the first run; scoped to the caller. */
  idempotencyKey?: string | undefined;
}

export interface StartedRun {
  run: Run;
  session: Session;
  agent: RunnableAgent;
  created: boolean;
  /** Notify budgets this run took past a threshold, in words. */
  budgetWarnings: string[];
}

/** A closed session, and whether its runtime's own session is known to be ended too. */
export interface ClosedSession {
  session: Session;
  agent: RunnableAgent | undefined;
  runtimeClosed: boolean;
}

export interface SessionDetail {
  session: Session;
  agent: RunnableAgent | undefined;
  transcript: TranscriptEntry[];
  runs: Run[];
}

export interface RunsServiceOptions {
  knex: Knex;
  agents: AgentSource;
  access: AccessPolicy;
  runtimes: RuntimeRegistry;
  queue: RunQueue;
  signals: RunSignals;
  logger: Logger;
  /** Reserved against budgets for a run whose agent sets no max_cost_usd_per_run. */
  runEstimateUsd?: number | undefined;
  /** How long an approver has to decide a held run. */
  approvalExpiryMs?: number | undefined;
  /** Tells approvers a held run waits for them (Slack DM, a channel…). */
  approvalNotifier?: ApprovalNotifier | undefined;
  /** The agent's secrets, for telling its runtime that a session was closed. */
  secrets?: AgentSecrets | undefined;
}

/**
 * Runs and sessions as people reach them, from every surface (API, site, Slack, Teams):
 * starting needs `runner` on the agent; reading a run or a session needs to be its person
 * or an editor of the agent (for a retired agent: its original owner or a platform admin,
 * see `mayReadHistory`); anything else is "not found". A conversation with a retired agent
 * is not continued, by that agent or by a new one with its name.
 */
export class RunsService {
  private readonly runs: RunStore;
  private readonly sessions: SessionStore;
  private readonly admission: RunAdmission;

  constructor(private readonly options: RunsServiceOptions) {
    this.runs = new RunStore(options.knex);
    this.sessions = new SessionStore(options.knex);
    this.admission = new RunAdmission(options);
  }

  async start(principal: Principal, request: StartRunRequest): Promise<StartedRun> {
    const user = requireUser(principal);
    const input = validInput(request.input);
    // Before the name is looked up: it may be another agent's by now.
    const session = request.sessionId ? await this.ownSession(user, request.sessionId) : undefined;
    const idempotencyKey = request.idempotencyKey
      ? `${user.userId}:${request.idempotencyKey}`
      : undefined;
    // One round trip for what the checks below read (a chat burst waits on each).
    const facts = await readStartFacts(this.options.knex, {
      userId: user.userId,
      userEmail: user.email,
      agentName: request.agentName,
      conversation: request.conversation,
      idempotencyKey,
    });
    if (request.conversation) await this.refuseRetiredConversation(request, facts);
    // A repeated request answers the run the first one started: it is not admitted twice.
    const repeated = facts.repeatedRunId !== undefined;
    const admitted = repeated
      ? undefined
      : await this.admission.admit(user, request.agentName, facts);
    const agent = admitted?.agent ?? (await this.agentOf(user, request.agentName));
    let created: Awaited<ReturnType<RunStore["create"]>>;
    try {
      if (session && session.agentId !== agent.id) {
        throw conflict(
          `The session ${session.id} is a conversation with another agent; start a new session for "${agent.name}".`,
        );
      }
      created = await this.runs.create({
        id: admitted?.runId,
        hold: admitted?.hold,
        agent: { id: agent.id, runtime: agent.runtime.type },
        userId: user.userId,
        input,
        session,
        conversation: session
          ? undefined
          : (request.conversation ?? {
              surface: principal.kind === "user" && principal.via === "site" ? "site" : "api",
              conversationKey: randomUUID(),
              title: input.slice(0, 120),
            }),
        idempotencyKey,
        // Looked up just now: a request racing with this one is caught by the insert itself.
        keyUnused: !repeated,
      });
    } catch (error) {
      if (admitted) await this.admission.budgets.release(admitted.runId);
      throw error;
    }
    if (admitted && !created.created) await this.admission.budgets.release(admitted.runId);
    if (created.created && admitted?.hold) {
      await this.admission.approvals.request({
        id: admitted.hold.approvalId,
        runId: created.run.id,
        requestedBy: user.userId,
        requesterEmail: user.email,
        agentName: agent.name,
        input,
        standing: admitted.hold.standing,
        estimateUsd: admitted.estimateUsd,
        surface: created.run.surface,
      });
    } else if (created.created) {
      await this.enqueue(created.run);
    }
    const warnings = created.created ? (admitted?.warnings ?? []) : [];
    for (const warning of warnings) {
      await this.admission.approvals.announceThreshold({
        budgetScope: warning.budget.scope,
        percent: warning.percent,
        message: warning.message,
        runId: created.run.id,
        requesterEmail: user.email,
        agentName: agent.name,
      });
    }
    return { ...created, agent, budgetWarnings: warnings.map((w) => w.message) };
  }

  /** The agent of a repeated request, still checked: access may have been taken away since. */
  private async agentOf(user: UserPrincipal, name: string): Promise<RunnableAgent> {
    const { access, agents } = this.options;
    await access.require(user, "runner", agentObject(name), {
      message: `The agent "${name}" was not found.`,
      hidden: true,
    });
    const agent = await agents.byName(name);
    if (!agent || agent.retired) throw notFound(`The agent "${name}"`);
    return agent;
  }

  /**
   * Decides an approval of a held run, from any surface: governance checks the approver's
   * right and applies the decision once; the run is then admitted again (past the approved
   * budget) and queued, or failed with the approver's reason.
   */
  decideApproval(principal: Principal, approvalId: string, input: DecisionInput) {
    return this.admission.approvals.decide(principal, approvalId, input, this.heldRuns);
  }

  /** Whether the person may decide this approval (false for one that does not exist). */
  async mayDecideApproval(principal: Principal, approvalId: string): Promise<boolean> {
    const approval = await this.admission.approvals.get(approvalId);
    return approval ? this.admission.approvals.mayDecide(principal, approval) : false;
  }

  /** Pending approvals the person may decide. */
  pendingApprovals(principal: Principal) {
    return this.admission.approvals.pendingFor(principal);
  }

  /** Fails the runs whose approvals nobody decided in time. */
  expireApprovals(now?: Date) {
    return this.admission.approvals.expireDue(this.heldRuns, now);
  }

  /** What a decision does to the held run (see governance's HeldRuns). */
  private readonly heldRuns: HeldRuns = {
    approved: async (approval) => {
      const run = await this.runs.get(approval.runId);
      const agent = run ? await this.options.agents.byId(run.agentId) : undefined;
      if (run?.status !== "needs_approval" || run.approvalId !== approval.id) return false;
      if (!agent || agent.retired || agent.state !== "enabled") {
        return this.moveHeld(approval, {
          status: "failed",
          error: {
            code: "agent_unavailable",
            message: `Approved, but "${approval.agentName}" can no longer run.`,
          },
        });
      }
      let admitted: Admitted;
      try {
        admitted = await this.admission.readmit(approval, agent);
      } catch (error) {
        if (!(error instanceof SwitchboardError)) throw error;
        return this.moveHeld(approval, {
          status: "failed",
          error: { code: error.code, message: error.message },
        });
      }
      if (admitted.hold) {
        // Another approval budget stops it too: that one's approvers decide next.
        const moved = await this.moveHeld(approval, {
          status: "needs_approval",
          approvalId: admitted.hold.approvalId,
          message: admitted.hold.message,
        });
        if (moved) {
          await this.admission.approvals.request({
            id: admitted.hold.approvalId,
            runId: run.id,
            requestedBy: run.userId,
            requesterEmail: approval.requesterEmail,
            agentName: agent.name,
            input: run.input,
            standing: admitted.hold.standing,
            estimateUsd: admitted.estimateUsd,
            surface: run.surface,
          });
        }
        return moved;
      }
      const moved = await this.moveHeld(approval, {
        status: "queued",
        data: { approved_by: approval.decidedBy, approval_id: approval.id },
      });
      if (!moved) {
        await this.admission.budgets.release(run.id);
        return false;
      }
      await this.enqueue({ ...run, status: "queued" });
      return true;
    },
    refused: (approval, error) => this.moveHeld(approval, { status: "failed", error }),
  };

  private async moveHeld(
    approval: Approval,
    next: Parameters<RunStore["moveHeld"]>[2],
  ): Promise<boolean> {
    const moved = await this.runs.moveHeld(approval.runId, approval.id, next);
    if (moved) this.options.signals.eventsAdded(approval.runId);
    return moved;
  }

  /** A chat conversation that was with a retired agent of this name goes no further. */
  private async refuseRetiredConversation(
    request: StartRunRequest,
    facts: StartFacts,
  ): Promise<void> {
    const { surface, conversationKey } = request.conversation ?? {};
    if (!surface || !conversationKey) return;
    for (const agentId of facts.conversationAgentIds) {
      const agent = await this.options.agents.byId(agentId);
      if (agent?.retired && agent.name === request.agentName) {
        throw retiredConversation(agent.name, "thread");
      }
    }
  }

  private async enqueue(run: Run): Promise<void> {
    try {
      await this.options.queue.enqueue(
        { sessionId: run.sessionId, runId: run.id },
        `run-${run.id}`,
      );
    } catch (error) {
      // The run is stored; the sweeper queues it once the queue is back. Nothing is lost.
      this.options.logger.warn(
        { err: error, run_id: run.id },
        "could not queue a run; it will be picked up by the sweeper",
      );
    }
  }

  /** The person's own session, still open: its agent has not been retired. */
  private async ownSession(user: UserPrincipal, sessionId: string): Promise<Session> {
    const session = isUuid(sessionId) ? await this.sessions.get(sessionId) : undefined;
    if (!session || session.userId !== user.userId) throw notFound(`The session ${sessionId}`);
    const agent = await this.options.agents.byId(session.agentId);
    if (!agent || agent.retired) {
      throw retiredConversation(agent?.name ?? "its agent", { sessionId: session.id });
    }
    return session;
  }

  /**
   * The agent a chat conversation (a Slack thread, a DM) is talking to: the one of its most
   * recently active session. Later messages in the thread go to it without naming it.
   */
  async conversationAgent(
    surface: SessionSurface,
    conversationKey: string,
  ): Promise<RunnableAgent | undefined> {
    const session = await this.sessions.latestForConversation(surface, conversationKey);
    return session ? this.options.agents.byId(session.agentId) : undefined;
  }

  /**
   * Whether the person uses this agent: has a session with it. By the agent's id, so a
   * retired name registered again is a new agent, with no sessions yet.
   */
  async usesAgent(principal: Principal, agentId: string): Promise<boolean> {
    if (principal.kind !== "user") return false;
    return this.sessions.hasSessionWith(principal.userId, agentId);
  }

  /** Whether the person asked for a turn in this conversation (a thread they took part in). */
  async tookPart(
    principal: Principal,
    surface: SessionSurface,
    conversationKey: string,
  ): Promise<boolean> {
    if (principal.kind !== "user") return false;
    return this.sessions.tookPart(principal.userId, surface, conversationKey);
  }

  /**
   * A run without a permission check: for a surface replying to the person who started it
   * (the Slack replier), never for answering a request.
   */
  async runById(runId: string): Promise<Run | undefined> {
    return this.runs.get(runId);
  }

  /** The run, if the person may read it. */
  async get(
    principal: Principal,
    runId: string,
  ): Promise<{ run: Run; agent: RunnableAgent | undefined }> {
    const run = isUuid(runId) ? await this.runs.get(runId) : undefined;
    if (!run) throw notFound(`The run ${runId}`);
    const agent = await this.options.agents.byId(run.agentId);
    if (!(await this.mayRead(principal, run.userId, agent))) throw notFound(`The run ${runId}`);
    return { run, agent };
  }

  async cancel(principal: Principal, runId: string): Promise<Run> {
    const { run } = await this.get(principal, runId);
    if (FINISHED_STATUSES.has(run.status)) {
      throw conflict(
        `The run ${runId} has already ${run.status === "cancelled" ? "been cancelled" : "finished"}.`,
      );
    }
    const updated = await this.runs.requestCancel(run.id);
    if (run.status === "needs_approval" && run.approvalId) {
      await this.admission.approvals.withdraw(run.approvalId);
    }
    if (updated?.status === "cancelled") this.options.signals.eventsAdded(run.id);
    else this.options.signals.cancelRequested(run.id);
    return updated ?? run;
  }

  /** The run's events after `afterSeq`, then new ones as they come, until the run finishes. */
  follow(runId: string, afterSeq: number, signal: AbortSignal): AsyncIterable<RunEvent> {
    return followRun(this.runs, this.options.signals, runId, afterSeq, signal);
  }

  /**
   * Ends a session: its person closes it once no run of it is unfinished (409 otherwise), and
   * its runtime is told to end its own session (a Managed Agents session archived, a Cursor
   * agent archived, a microVM stopped), so nothing keeps running or billing there. Its
   * transcript stays. A later turn in it opens it again, and the runtime starts a new session
   * of its own, primed with the transcript. Closing a closed session changes nothing.
   */
  async closeSession(principal: Principal, sessionId: string): Promise<ClosedSession> {
    const user = requireUser(principal);
    const found = isUuid(sessionId) ? await this.sessions.get(sessionId) : undefined;
    if (!found || found.userId !== user.userId) throw notFound(`The session ${sessionId}`);
    const result = await this.sessions.close(found.id);
    if (!result) throw notFound(`The session ${sessionId}`);
    if ("unfinishedRun" in result) {
      throw conflict(
        `The session ${sessionId} has a run that has not finished (${result.unfinishedRun}); cancel it or wait for it, then close the session.`,
        { run_id: result.unfinishedRun },
      );
    }
    const before = result.closed;
    const agent = await this.options.agents.byId(before.agentId);
    return {
      session: { ...before, status: "closed", runtimeHandle: null },
      agent,
      runtimeClosed: await this.closeAtRuntime(before, agent),
    };
  }

  /**
   * Best effort: a runtime that cannot be reached keeps its session until its own idle
   * timeout, which is logged; the session is closed here either way.
   */
  private async closeAtRuntime(
    session: Session,
    agent: RunnableAgent | undefined,
  ): Promise<boolean> {
    const { runtimes, secrets, logger } = this.options;
    const handle = session.runtimeHandle;
    if (!handle || !agent) return true;
    try {
      const runtime = runtimes.get(agent.runtime.type);
      if (!runtime.closeSession) return true;
      if (!secrets) return false;
      await runtime.closeSession(
        runtimes.parse(agent.runtime),
        handle,
        secrets({ id: agent.id, name: agent.name }),
      );
      return true;
    } catch (error) {
      logger.warn(
        { err: error, session_id: session.id, agent: agent.name },
        "could not close the runtime's session; it ends at the runtime's own idle timeout",
      );
      return false;
    }
  }

  /** The person's own sessions, newest activity first, each with its agent's name. */
  async listSessions(
    principal: Principal,
    options: {
      agentName?: string | undefined;
      cursor?: string | undefined;
      limit?: number | undefined;
    },
  ): Promise<{
    /** `agentRetired`: the agent is retired, and its name may now be another agent's. */
    items: { session: Session; agentName: string | null; agentRetired: boolean }[];
    nextCursor: string | null;
  }> {
    const user = requireUser(principal);
    let agentId: string | undefined;
    if (options.agentName) {
      const agent = await this.options.agents.byName(options.agentName);
      if (!agent) return { items: [], nextCursor: null };
      agentId = agent.id;
    }
    const page = await this.sessions.listForUser(user.userId, {
      agentId,
      cursor: options.cursor,
      limit: Math.min(Math.max(options.limit ?? 20, 1), 100),
    });
    const agents = new Map<string, RunnableAgent | undefined>();
    for (const session of page.items) {
      if (!agents.has(session.agentId)) {
        agents.set(session.agentId, await this.options.agents.byId(session.agentId));
      }
    }
    return {
      items: page.items.map((session) => {
        const agent = agents.get(session.agentId);
        return { session, agentName: agent?.name ?? null, agentRetired: agent?.retired ?? true };
      }),
      nextCursor: page.nextCursor,
    };
  }

  async session(principal: Principal, sessionId: string): Promise<SessionDetail> {
    const session = isUuid(sessionId) ? await this.sessions.get(sessionId) : undefined;
    if (!session) throw notFound(`The session ${sessionId}`);
    const agent = await this.options.agents.byId(session.agentId);
    if (!(await this.mayRead(principal, session.userId, agent)))
      throw notFound(`The session ${sessionId}`);
    const [transcript, runs] = await Promise.all([
      this.sessions.transcript(session.id),
      this.runs.listForSession(session.id),
    ]);
    return { session, agent, transcript, runs };
  }

  private mayRead(
    principal: Principal,
    personId: string,
    agent: RunnableAgent | undefined,
  ): Promise<boolean> {
    return mayReadHistory(this.options.access, principal, personId, agent);
  }
}

function requireUser(principal: Principal): UserPrincipal {
  if (principal.kind !== "user") {
    throw new SwitchboardError("forbidden", "Runs are started by people; use a person's API key.", {
      status: 403,
    });
  }
  return principal;
}

function validInput(input: unknown): string {
  if (typeof input !== "string" || input.trim().length === 0) {
    throw badRequest(
      'Send the request as {"input": "what you want the agent to do"}: input must be non-empty text.',
    );
  }
  const unstorable = unstorableTextProblem(input);
  if (unstorable) {
    throw badRequest(
      `The input ${unstorable}, so it cannot be stored; remove it and send it again.`,
    );
  }
  if (input.length > MAX_INPUT_CHARS) {
    throw badRequest(
      `The input is ${input.length} characters; one turn takes at most ${MAX_INPUT_CHARS}.`,
    );
  }
  return input;
}
