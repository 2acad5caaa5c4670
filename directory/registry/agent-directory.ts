import {
  type AccessPolicy,
  actorOf,
  agentObject,
  PLATFORM,
  type Principal,
} from "../../authz/index.js";
import {
  badRequest,
  conflict,
  describeUnstorableInput,
  findUnstorableInput,
  forbidden,
  notFound,
  SwitchboardError,
} from "../../core/index.js";
import { canonicalJson, validateManifest } from "../manifest/index.js";
import type { Agent, AgentState } from "./agent-record.js";
import type { AgentRegistry, ApplyResult } from "./agent-registry.js";
import { type AgentFilter, decodeCursor, encodeCursor, type Facets } from "./agent-search.js";
import { registrarsInWords } from "./teams.js";

export interface ListRequest extends AgentFilter {
  cursor?: string | undefined;
  /** 1–100; default 50. */
  limit?: number | undefined;
  /** Also count facet values (one query among the agents the person may view). */
  facets?: boolean | undefined;
}

export interface AgentPage {
  items: Agent[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
  facets: Facets | undefined;
}

/** What the person may do with an agent: drives buttons on the site and `permissions` in the API. */
export interface AgentPermissions {
  run: boolean;
  edit: boolean;
  own: boolean;
}

export interface AgentRegistrationAnswer {
  allowed: boolean;
  /** e.g. "members of a team and platform admins". */
  who: string;
  /** Who may, and how to ask: for a person who may not. */
  refusal: string;
}

export interface RequestContext {
  requestId?: string | undefined;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
const AGENT_PREFIX = "agent:";

/**
 * The directory as a person sees it: every call takes the caller's `Principal` and answers
 * only with what their rights allow. The REST API and the directory site are thin layers
 * over this class. An agent the person may not view is "not found", never "forbidden".
 *
 * Who may create an agent: whoever will own it, so they can go on to change it. That is a
 * platform admin; an admin of the team that will own it (the model makes team admins the
 * owners of their team's agents; plain members may run them); or, for an agent owned by one
 * person, that person. Updating needs `editor`; changing the owner or who may view and run
 * it needs `owner`, as does retiring it.
 */
export class AgentDirectory {
  constructor(
    private readonly registry: AgentRegistry,
    private readonly access: AccessPolicy,
  ) {}

  /**
   * A page of agents the person may view: the names they may view (one list-objects answer,
   * kept by the authorizer between changes of access), then one indexed query for the page
   * among them, and the page's own rows read whole. A person who may view few of many agents
   * never makes the server load the rest; no agent is checked one by one (on an OpenFGA
   * server a check of one agent is about 25 datastore queries on this model, so checking a
   * page's candidates ran past its deadline: see bench/README.md).
   */
  async list(principal: Principal, request: ListRequest = {}): Promise<AgentPage> {
    // Every surface searches through here (the API, the site, Slack's /agents search).
    const unstorable = findUnstorableInput(request);
    if (unstorable) throw badRequest(describeUnstorableInput("The search", unstorable));
    const limit = Math.min(Math.max(request.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const visible = await this.agentNamesFor(principal, "viewer");
    const [page, facets] = await Promise.all([
      this.pageAmong(visible, request, after, limit),
      request.facets ? this.registry.catalog.facets(request, visible) : undefined,
    ]);
    return { ...page, facets };
  }

  /**
   * A page of enabled agents the person may run, in name order: the tools a coding tool is
   * offered over MCP. The same path as browsing (the names they may run, then one indexed
   * query for the page), so a change to how the directory pages applies here too.
   */
  async listRunnable(
    principal: Principal,
    request: { cursor?: string | undefined; limit?: number | undefined } = {},
  ): Promise<AgentPage> {
    const limit = Math.min(Math.max(request.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
    const after = request.cursor ? decodeCursor(request.cursor) : undefined;
    const runnable = await this.agentNamesFor(principal, "runner");
    const page = await this.pageAmong(runnable, { states: ["enabled"] }, after, limit);
    return { ...page, facets: undefined };
  }

  /** The page after `after` among `names` matching the filter, rows read whole. */
  private async pageAmong(
    names: readonly string[],
    filter: AgentFilter,
    after: string | undefined,
    limit: number,
  ): Promise<{ items: Agent[]; nextCursor: string | null }> {
    // One more than the page: then there certainly is a next page.
    const found = await this.registry.catalog.namesAmong(filter, names, {
      after,
      limit: limit + 1,
    });
    const page = found.slice(0, limit);
    const items = await this.registry.catalog.findLive(page);
    const last = page.at(-1);
    return { items, nextCursor: found.length > limit && last ? encodeCursor(last) : null };
  }

  /**
   * Every agent the person may view or run, by name, unordered: the one way each surface
   * learns it (the directory's list, search and facets, the catalog page, Slack's
   * suggestions and App Home, Teams, the MCP tool list), so they all agree and all share
   * the authorizer's kept answer.
   */
  async agentNamesFor(principal: Principal, relation: "viewer" | "runner"): Promise<string[]> {
    const objects = await this.access.list(principal, relation, "agent");
    return objects.map((object) => object.slice(AGENT_PREFIX.length));
  }

  /** The agent, or 404 when it does not exist or the person may not view it. */
  async get(principal: Principal, name: string): Promise<Agent> {
    await this.access.require(principal, "viewer", agentObject(name), {
      message: `The agent "${name}" was not found.`,
      hidden: true,
    });
    const agent = await this.registry.find(name);
    if (!agent) throw notFound(`The agent "${name}"`);
    return agent;
  }

  async permissions(principal: Principal, name: string): Promise<AgentPermissions> {
    const object = agentObject(name);
    const [run, edit, own] = await Promise.all(
      ["runner", "editor", "owner"].map((relation) => this.access.can(principal, relation, object)),
    );
    return { run: run === true, edit: edit === true, own: own === true };
  }

  /** Whether the person may register agents; who may, and what to do if not, in words. */
  async registration(principal: Principal): Promise<AgentRegistrationAnswer> {
    const allowed = await this.access.can(principal, "agent_registrar", PLATFORM);
    return { allowed, ...registrarsInWords(this.registry.teams.registration) };
  }

  async create(
    principal: Principal,
    body: unknown,
    context: RequestContext = {},
  ): Promise<ApplyResult> {
    const entry = validateManifest(body, this.registry.checkRuntime);
    const { name, owner } = entry.manifest.metadata;
    const registration = await this.registration(principal);
    if (!registration.allowed) throw forbidden(registration.refusal);
    if (!(await this.access.mayCreateFor(principal, owner))) {
      throw forbidden(
        `Only platform admins${owner.startsWith("team:") ? ` and admins of ${owner}` : ""} may register an agent owned by ${owner}.`,
      );
    }
    if (await this.registry.find(name)) throw await this.nameTaken(principal, name, owner);
    return this.registry.apply(entry, { actor: actorOf(principal), ...context, createOnly: true });
  }

  /**
   * The refusal of a name a live agent has. Whoever may view that agent is told it exists;
   * anyone else is told only that the name is not available, so creating cannot be used to
   * learn which hidden agents exist.
   */
  private async nameTaken(
    principal: Principal,
    name: string,
    owner: string,
  ): Promise<SwitchboardError> {
    const [visible, retired] = await Promise.all([
      this.access.can(principal, "viewer", agentObject(name)),
      this.registry.findRetired(name, owner),
    ]);
    const restore = retired
      ? ` Your retired agent "${name}" cannot be restored while another agent has its name.`
      : "";
    if (visible) {
      return conflict(`An agent named "${name}" already exists; choose another name.${restore}`);
    }
    return new SwitchboardError(
      "name_unavailable",
      `The name "${name}" is not available; choose another name.${restore} If you believe the name should be yours, ask a platform admin.`,
      { status: 409 },
    );
  }

  async update(
    principal: Principal,
    name: string,
    body: unknown,
    context: RequestContext = {},
  ): Promise<ApplyResult> {
    const current = await this.get(principal, name);
    const entry = validateManifest(body, this.registry.checkRuntime);
    if (entry.manifest.metadata.name !== name) {
      throw badRequest(
        `The manifest's metadata.name is "${entry.manifest.metadata.name}"; it must match "${name}". Agents are not renamed.`,
      );
    }
    const object = agentObject(name);
    await this.access.require(principal, "editor", object, {
      message: `You may view "${name}" but not change it; ask its owners for editor access.`,
    });
    const accessChanged =
      current.manifest.metadata.owner !== entry.manifest.metadata.owner ||
      canonicalJson(current.manifest.spec.access) !== canonicalJson(entry.manifest.spec.access);
    if (accessChanged) {
      await this.access.require(principal, "owner", object, {
        message: `Only the owners of "${name}" may change its owner or who may view and run it.`,
      });
    }
    return this.registry.apply(entry, { actor: actorOf(principal), ...context });
  }

  async retire(principal: Principal, name: string, context: RequestContext = {}): Promise<Agent> {
    await this.get(principal, name);
    await this.access.require(principal, "owner", agentObject(name), {
      message: `Only the owners of "${name}" may delete it.`,
    });
    return this.registry.retire(name, { actor: actorOf(principal), ...context });
  }

  async setState(
    principal: Principal,
    name: string,
    change: { state: AgentState; reason?: string | undefined },
    context: RequestContext = {},
  ): Promise<Agent> {
    await this.get(principal, name);
    await this.access.require(principal, "editor", agentObject(name), {
      message: `Only the editors of "${name}" may enable, suspend or disable it.`,
    });
    return this.registry.setState(name, change.state, change.reason, {
      actor: actorOf(principal),
      ...context,
    });
  }
}
