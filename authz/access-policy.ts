import { SwitchboardError } from "../core/index.js";
import type { Authorizer } from "./authorizer.js";
import { isAuthzError } from "./embedded/index.js";
import { PLATFORM } from "./open-authorizer.js";
import { agentObject, type Principal, userSubject } from "./principal.js";

/**
 * The question every entry point asks, with the answers a person can act on. Deny by
 * default: a principal that is not a user is refused, and when the authorizer cannot
 * answer in time (OpenFGA down or slow) nothing is allowed and the message says access
 * could not be checked.
 */
export class AccessPolicy {
  constructor(
    private readonly authorizer: Authorizer,
    private readonly timeoutMs: number,
  ) {}

  /** Whether the principal has `relation` on `object`; throws `authz_unavailable` when unknown. */
  async can(
    principal: Principal,
    relation: string,
    object: string,
    options?: { fresh?: boolean },
  ): Promise<boolean> {
    if (principal.kind !== "user") return false;
    return this.bounded(() =>
      this.authorizer.check({ user: userSubject(principal.email), relation, object }, options),
    );
  }

  /**
   * Whether an agent (as the user of a tuple, `agent:NAME`) has `relation` on `object`: e.g.
   * may use a secret. Asked at the moment of use, past the OpenFGA server's caches.
   */
  async agentCan(agentName: string, relation: string, object: string): Promise<boolean> {
    return this.bounded(() =>
      this.authorizer.check({ user: agentObject(agentName), relation, object }, { fresh: true }),
    );
  }

  /** The objects, in order, on which the principal has `relation`: filters a page of results. */
  async filter(
    principal: Principal,
    relation: string,
    objects: readonly string[],
  ): Promise<string[]> {
    if (principal.kind !== "user" || objects.length === 0) return [];
    const allowed = await this.bounded(() =>
      this.authorizer.batchCheck({ user: userSubject(principal.email), relation, objects }),
    );
    return objects.filter((_, i) => allowed[i]);
  }

  /**
   * Every object of `type` the principal has `relation` on, however many: both authorizers
   * list completely, and keep the answer until access changes (the OpenFGA server's for a
   * few seconds at most; see OpenFgaAuthorizer).
   */
  async list(principal: Principal, relation: string, type: string): Promise<string[]> {
    if (principal.kind !== "user") return [];
    return this.bounded(() =>
      this.authorizer.listObjects({ user: userSubject(principal.email), relation, type }),
    );
  }

  /**
   * Whether the principal may make something that `owner` (`user:EMAIL` or `team:SLUG`) will
   * own, so they can go on to change it: the person named, an admin of the team named, or a
   * platform admin. Used for registering agents and creating secrets.
   */
  async mayCreateFor(principal: Principal, owner: string): Promise<boolean> {
    if (principal.kind !== "user") return false;
    if (owner === userSubject(principal.email)) return true;
    if (owner.startsWith("team:") && (await this.can(principal, "admin", owner))) return true;
    return this.can(principal, "admin", PLATFORM);
  }

  /**
   * Throws unless allowed. `hidden` makes a refusal look like "not found", for things the
   * principal may not even know exist (an agent they cannot view).
   */
  async require(
    principal: Principal,
    relation: string,
    object: string,
    refusal: { message: string; hidden?: boolean },
  ): Promise<void> {
    if (await this.can(principal, relation, object)) return;
    if (refusal.hidden) throw new SwitchboardError("not_found", refusal.message, { status: 404 });
    throw new SwitchboardError("forbidden", refusal.message, {
      status: 403,
      details: { relation, object },
    });
  }

  private async bounded<T>(ask: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([ask(), timeout]);
    } catch (error) {
      if (isAuthzError(error)) throw error;
      throw new SwitchboardError(
        "authz_unavailable",
        "Access could not be checked right now, so it was not granted. Try again in a moment.",
        { status: 503, cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
