import type { Knex } from "knex";
import { type AccessPolicy, PLATFORM, type Principal } from "../../authz/index.js";
import { forbidden } from "../../core/index.js";
import {
  type ResolvedFilters,
  type SpendFigures,
  type SpendScope,
  spendFigures,
} from "./spend-report.js";
import { parseSpendRequest, type SpendRequest } from "./spend-request.js";

/** Who sees what: everything, their teams' spend and their own, or only their own. */
export type SpendVisibility = "all" | "teams" | "own";

export interface SpendAnswer extends SpendFigures {
  group_by: SpendRequest["groupBy"];
  from: string;
  to: string;
  /** What the figures cover for this caller. */
  visibility: SpendVisibility;
}

/** The teams a caller administers (slugs), and what they may see. */
export interface SpendViewer {
  visibility: SpendVisibility;
  scope: SpendScope;
  /** Slugs of the teams the caller is an admin of. */
  teams: string[];
}

/**
 * Spend for a person, as the API and the site show it. Platform admins see all of it; a
 * team's admins see their team's (the rows of the agents it owns, or booked to it) and
 * everyone sees their own. Asking by name for spend one may not see is a 403 in words, not
 * a quietly empty answer, so nobody reads "$0" as "nothing was spent".
 */
export class SpendService {
  constructor(
    private readonly knex: Knex,
    private readonly access: AccessPolicy,
  ) {}

  /** What the principal may see; a principal that is not a person sees nothing. */
  async viewer(principal: Principal): Promise<SpendViewer> {
    if (principal.kind !== "user") {
      return { visibility: "own", scope: { all: false, teamIds: [] }, teams: [] };
    }
    if (await this.access.can(principal, "admin", PLATFORM)) {
      return { visibility: "all", scope: { all: true, teamIds: [] }, teams: [] };
    }
    const teams = (await this.access.list(principal, "admin", "team"))
      .map((object) => object.slice("team:".length))
      .sort();
    const teamIds =
      teams.length === 0
        ? []
        : ((await this.knex("teams").whereIn("slug", teams).pluck("id")) as string[]);
    return {
      visibility: teamIds.length > 0 ? "teams" : "own",
      scope: { all: false, teamIds, userId: principal.userId },
      teams,
    };
  }

  /** Checks the query (400 in words), the caller's right to what it names (403), and answers. */
  async report(principal: Principal, query: Record<string, unknown>): Promise<SpendAnswer> {
    const request = parseSpendRequest(query);
    const viewer = await this.viewer(principal);
    const filters = await this.resolve(request);
    this.refuseUnseen(principal, request, viewer);
    const figures = await spendFigures(this.knex, request, filters, viewer.scope);
    return {
      group_by: request.groupBy,
      from: request.from,
      to: request.to,
      visibility: viewer.visibility,
      ...figures,
    };
  }

  /** Names to ids: a name nothing has is `null` (no rows), never an error. */
  private async resolve(request: SpendRequest): Promise<ResolvedFilters> {
    const { team, user, agent, runtime, model } = request.filters;
    const idOf = async (table: string, column: string, value: string) =>
      ((await this.knex(table).where(column, value).first("id")) as { id: string } | undefined)
        ?.id ?? null;
    return {
      ...(team ? { teamId: await idOf("teams", "slug", team) } : {}),
      ...(user ? { userId: await idOf("users", "email", user) } : {}),
      ...(agent
        ? { agentIds: (await this.knex("agents").where("name", agent).pluck("id")) as string[] }
        : {}),
      ...(runtime ? { runtime } : {}),
      ...(model ? { model } : {}),
    };
  }

  private refuseUnseen(principal: Principal, request: SpendRequest, viewer: SpendViewer): void {
    if (viewer.visibility === "all") return;
    const { team, user } = request.filters;
    const self = principal.kind === "user" ? principal.email : undefined;
    if (team && !viewer.teams.includes(team)) {
      throw forbidden(
        viewer.visibility === "teams"
          ? `You may see the spend of the teams you are an admin of (${viewer.teams.join(", ")}) and your own, not team ${team}'s.`
          : `Only team ${team}'s admins and platform admins may see its spend; you may see your own.`,
      );
    }
    if (user && user !== self && viewer.visibility === "own") {
      throw forbidden(
        "You may see only your own spend; a team's admins see their team's, platform admins everyone's.",
      );
    }
    // A team admin naming someone else sees that person's spend on their teams' agents only:
    // the scope still applies.
  }
}
