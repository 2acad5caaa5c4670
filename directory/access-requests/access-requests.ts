import type { Knex } from "knex";
import {
  type AccessPolicy,
  type Authorizer,
  actorOf,
  agentObject,
  type Principal,
  type TupleKey,
  type UserPrincipal,
  userSubject,
} from "../../authz/index.js";
import {
  badRequest,
  conflict,
  forbidden,
  isUuid,
  notFound,
  unstorableTextProblem,
} from "../../core/index.js";
import { AuditLog } from "../../governance/index.js";
import {
  type AccessRequest,
  type AccessRequestRow,
  accessRequestFromRow,
} from "./access-request.js";

/** Tells an agent's owners that a request waits, and the person what became of it. */
export interface AccessRequestNotifier {
  requested(request: AccessRequest): Promise<void>;
  decided?(request: AccessRequest): Promise<void>;
}

export interface AccessDecisionInput {
  decision: "approve" | "deny";
  reason?: string | undefined;
  /** Approve only: the person (default), or every member of one of their teams. */
  grantTo?: "user" | "team" | undefined;
  /** With grantTo "team": the team's slug; the requester must be a member. */
  team?: string | undefined;
}

export interface AccessDecisionResult {
  request: AccessRequest;
  /** false: it was decided already (this click before, or another owner): nothing changed. */
  applied: boolean;
}

export interface AccessRequestsOptions {
  knex: Knex;
  access: AccessPolicy;
  /** Where approving writes the runner grant (the same tuple `switchboard authz grant` writes). */
  authorizer: Authorizer;
  notifier?: AccessRequestNotifier | undefined;
}

export const MAX_ACCESS_REASON_CHARS = 1000;
const TEAM_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Requests to run an agent: filed by someone who may view it but not run it, listed to the
 * agent's owners (the `owner` relation: its owning team's admins, named owners, platform
 * admins), decided once by one of them. Approving writes the runner grant; every step is in
 * the audit log. The owner right is checked on every decision, from every surface.
 */
export class AccessRequests {
  private readonly audit: AuditLog;

  constructor(private readonly options: AccessRequestsOptions) {
    this.audit = new AuditLog(options.knex);
  }

  /**
   * Files a request for the caller. A second request while one is pending answers the one
   * that waits (created false) and tells nobody again.
   */
  async file(
    principal: Principal,
    agentName: string,
    reasonInput: unknown,
  ): Promise<{ request: AccessRequest; created: boolean }> {
    if (principal.kind !== "user") throw forbidden("Only a person may ask for access.");
    const reason = validReason(reasonInput, true) as string;
    const { knex, access } = this.options;
    const agent = await knex("agents").where({ name: agentName }).whereNull("retired_at").first();
    const object = agentObject(agentName);
    if (!agent || !(await access.can(principal, "viewer", object))) {
      throw notFound(`The agent ${agentName}`);
    }
    if (await access.can(principal, "runner", object, { fresh: true })) {
      throw conflict(`You may already run ${agentName}; there is nothing to ask for.`);
    }
    const waiting = await this.pendingOf(principal.userId, agentName);
    if (waiting) return { request: waiting, created: false };
    const [row] = (await knex("access_requests")
      .insert({
        user_id: principal.userId,
        requester_email: principal.email,
        agent_name: agentName,
        reason,
      })
      .onConflict(knex.raw("(user_id, agent_name) where status = 'pending'"))
      .ignore()
      .returning("*")) as AccessRequestRow[];
    if (!row) {
      // Two clicks at once: the other one filed it.
      const filed = await this.pendingOf(principal.userId, agentName);
      if (filed) return { request: filed, created: false };
      throw conflict("The request could not be filed; try again.");
    }
    const request = accessRequestFromRow(row);
    await this.audit.record({
      actor: actorOf(principal),
      action: "access_request.filed",
      targetType: "agent",
      targetId: object,
      details: { request_id: request.id, reason },
    });
    await this.options.notifier?.requested(request);
    return { request, created: true };
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    if (!isUuid(id)) return undefined;
    const row = (await this.options.knex("access_requests").where({ id }).first()) as
      | AccessRequestRow
      | undefined;
    return row ? accessRequestFromRow(row) : undefined;
  }

  /** The caller's own request for an agent that still waits, if any (the agent page shows it). */
  async pendingOf(userId: string, agentName: string): Promise<AccessRequest | undefined> {
    const row = (await this.options
      .knex("access_requests")
      .where({ user_id: userId, agent_name: agentName, status: "pending" })
      .first()) as AccessRequestRow | undefined;
    return row ? accessRequestFromRow(row) : undefined;
  }

  /** The person's latest request to run the agent, whatever became of it (the agent page shows it). */
  async latestOf(userId: string, agentName: string): Promise<AccessRequest | undefined> {
    const row = (await this.options
      .knex("access_requests")
      .where({ user_id: userId, agent_name: agentName })
      .orderBy("created_at", "desc")
      .first()) as AccessRequestRow | undefined;
    return row ? accessRequestFromRow(row) : undefined;
  }

  /** Whether the person may decide requests for the agent: asked on every decision. */
  mayDecide(principal: Principal, agentName: string): Promise<boolean> {
    return this.options.access.can(principal, "owner", agentObject(agentName), { fresh: true });
  }

  /** Pending requests the caller may decide (they own the agent), oldest first. */
  async pendingFor(principal: Principal): Promise<AccessRequest[]> {
    const rows = (await this.options
      .knex("access_requests")
      .where({ status: "pending" })
      .orderBy("created_at")
      .limit(500)) as AccessRequestRow[];
    const requests = rows.map(accessRequestFromRow);
    const agents = [...new Set(requests.map((r) => agentObject(r.agentName)))];
    const owned = new Set(await this.options.access.filter(principal, "owner", agents));
    return requests.filter((r) => owned.has(agentObject(r.agentName)));
  }

  /**
   * Approve or deny. The owner right is checked first (someone who may not decide learns no
   * more than that); the request leaves pending exactly once (a conditional update), so a
   * repeated click or a second owner finds it decided and changes nothing.
   */
  async decide(
    principal: Principal,
    id: string,
    input: AccessDecisionInput,
  ): Promise<AccessDecisionResult> {
    if (input.decision !== "approve" && input.decision !== "deny") {
      throw badRequest('decision must be "approve" or "deny".');
    }
    const reason = validReason(input.reason, false);
    const found = await this.get(id);
    if (!found) throw notFound(`The access request ${id}`);
    if (!(await this.mayDecide(principal, found.agentName))) {
      throw forbidden(`Only the owners of ${found.agentName} may decide who may run it.`);
    }
    const target = input.decision === "approve" ? await this.grantTarget(found, input) : undefined;
    const { knex, authorizer } = this.options;
    const status = input.decision === "approve" ? "approved" : "denied";
    const actor = actorOf(principal);
    const [row] = (await knex("access_requests")
      .where({ id, status: "pending" })
      .update({
        status,
        decided_by: actor,
        decided_at: knex.fn.now(),
        decision_reason: reason ?? null,
        grant_target: target ?? null,
      })
      .returning("*")) as AccessRequestRow[];
    if (!row) return { request: (await this.get(id)) as AccessRequest, applied: false };
    const request = accessRequestFromRow(row);
    if (target) {
      const tuple: TupleKey = {
        user: target,
        relation: "runner",
        object: agentObject(found.agentName),
      };
      try {
        await authorizer.write([tuple]);
      } catch (error) {
        // The grant did not land: the request waits again rather than claiming an approval.
        await knex("access_requests").where({ id }).update({
          status: "pending",
          decided_by: null,
          decided_at: null,
          grant_target: null,
          decision_reason: null,
        });
        throw error;
      }
    }
    await this.audit.record({
      actor,
      action: `access_request.${status}`,
      targetType: "agent",
      targetId: agentObject(found.agentName),
      details: {
        request_id: id,
        requester: userSubject(found.requesterEmail),
        ...(target ? { granted: `${target} runner` } : {}),
        ...(reason ? { reason } : {}),
      },
    });
    await this.options.notifier?.decided?.(request);
    return { request, applied: true };
  }

  private async grantTarget(request: AccessRequest, input: AccessDecisionInput): Promise<string> {
    const to = input.grantTo ?? "user";
    if (to === "user") return userSubject(request.requesterEmail);
    if (to !== "team") throw badRequest('grant_to must be "user" or "team".');
    const team = input.team;
    if (typeof team !== "string" || !TEAM_SLUG.test(team)) {
      throw badRequest('With grant_to "team", name the team: {"team": "research"}.');
    }
    const requester: UserPrincipal = {
      kind: "user",
      userId: request.userId,
      email: request.requesterEmail,
      via: "api",
    };
    if (!(await this.options.access.can(requester, "member", `team:${team}`))) {
      throw badRequest(`${request.requesterEmail} is not a member of team:${team}.`);
    }
    return `team:${team}#member`;
  }
}

function validReason(reason: unknown, required: boolean): string | undefined {
  if (reason === undefined || reason === null || (typeof reason === "string" && !reason.trim())) {
    if (required) throw badRequest("Say why you need access: reason is required.");
    return undefined;
  }
  if (typeof reason !== "string") throw badRequest("reason must be text.");
  if (reason.length > MAX_ACCESS_REASON_CHARS) {
    throw badRequest(`reason may be at most ${MAX_ACCESS_REASON_CHARS} characters.`);
  }
  const unstorable = unstorableTextProblem(reason);
  if (unstorable) throw badRequest(`reason ${unstorable}.`);
  return reason.trim();
}
