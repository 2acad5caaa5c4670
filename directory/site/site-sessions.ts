import { createHash, randomBytes } from "node:crypto";
import type { Knex } from "knex";
import { normalizeEmail } from "../../authz/index.js";
import { echoInput, isUuid, notFound } from "../../core/index.js";
import type { AuditLog } from "../../governance/index.js";

/** How a person signed in to the site. */
export type SignInMethod = "development" | "oidc" | "trusted_header";

/** Signed-in sessions last a working week from sign-in, however active they are. */
export const SESSION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;
/** Writing last_seen_at on every request would turn each page view into a write. */
const LAST_SEEN_PRECISION_MS = 60_000;

export interface SessionUser {
  id: string;
  email: string;
  displayName?: string | undefined;
}

/** A live session, as a request presenting its token finds it. */
export interface LiveSession {
  id: string;
  method: SignInMethod;
  user: SessionUser;
  expiresAt: Date;
}

/** One row of the admin's list. */
export interface SessionSummary {
  id: string;
  userEmail: string;
  method: SignInMethod;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  address: string | null;
}

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

interface SummaryRow {
  id: string;
  email: string;
  method: SignInMethod;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  user_agent: string | null;
  address: string | null;
}

const summaryOf = (row: SummaryRow): SessionSummary => ({
  id: row.id,
  userEmail: row.email,
  method: row.method,
  createdAt: row.created_at,
  lastSeenAt: row.last_seen_at,
  expiresAt: row.expires_at,
  userAgent: row.user_agent,
  address: row.address,
});

/**
 * The site's signed-in sessions, stored so that they can be ended: by signing out, by an
 * admin, by expiry. A session is named by a random 256-bit token that only the browser's
 * cookie holds; the table keeps its SHA-256 (nothing to brute-force), so a copy of the table
 * signs nobody in.
 */
export class SiteSessions {
  constructor(
    private readonly knex: Knex,
    private readonly audit: AuditLog,
  ) {}

  /** Opens a session; answers the token for the cookie. Expired sessions are swept here. */
  async start(input: {
    userId: string;
    method: SignInMethod;
    userAgent?: string | undefined;
    address?: string | undefined;
  }): Promise<{ token: string; id: string }> {
    const token = randomBytes(32).toString("base64url");
    await this.knex("site_sessions").where("expires_at", "<=", this.knex.fn.now()).delete();
    const [row] = (await this.knex("site_sessions")
      .insert({
        token_hash: hashToken(token),
        user_id: input.userId,
        method: input.method,
        expires_at: new Date(Date.now() + SESSION_MAX_AGE_SECONDS * 1000),
        user_agent: input.userAgent?.slice(0, 300) ?? null,
        address: input.address?.slice(0, 64) ?? null,
      })
      .returning("id")) as { id: string }[];
    return { token, id: (row as { id: string }).id };
  }

  /** The live session a token names: not ended, not expired, its person not deactivated. */
  async find(token: string): Promise<LiveSession | undefined> {
    const row = (await this.knex("site_sessions as s")
      .join("users as u", "u.id", "s.user_id")
      .where("s.token_hash", hashToken(token))
      .where("s.expires_at", ">", this.knex.fn.now())
      .where("u.is_active", true)
      .first(
        "s.id",
        "s.method",
        "s.last_seen_at",
        "s.expires_at",
        "u.id as user_id",
        "u.email",
        "u.display_name",
      )) as
      | {
          id: string;
          method: SignInMethod;
          last_seen_at: Date;
          expires_at: Date;
          user_id: string;
          email: string;
          display_name: string | null;
        }
      | undefined;
    if (!row) return undefined;
    // Only when it is stale: most requests cost one read and no write.
    if (Date.now() - row.last_seen_at.getTime() > LAST_SEEN_PRECISION_MS) {
      await this.knex("site_sessions")
        .where({ id: row.id })
        .where("last_seen_at", "<", new Date(Date.now() - LAST_SEEN_PRECISION_MS))
        .update({ last_seen_at: this.knex.fn.now() });
    }
    return {
      id: row.id,
      method: row.method,
      user: { id: row.user_id, email: row.email, displayName: row.display_name ?? undefined },
      expiresAt: row.expires_at,
    };
  }

  /** Signing out: the token names no session from now on. */
  async end(token: string): Promise<void> {
    await this.knex("site_sessions")
      .where({ token_hash: hashToken(token) })
      .delete();
  }

  /** Live sessions, most recently seen first; only one person's with `userEmail`. */
  async list(options: {
    limit: number;
    userEmail?: string | undefined;
  }): Promise<SessionSummary[]> {
    const query = this.knex("site_sessions as s")
      .join("users as u", "u.id", "s.user_id")
      .where("s.expires_at", ">", this.knex.fn.now())
      .orderBy("s.last_seen_at", "desc")
      .limit(options.limit)
      .select("s.*", "u.email");
    if (options.userEmail) query.where("u.email", normalizeEmail(options.userEmail));
    return ((await query) as SummaryRow[]).map(summaryOf);
  }

  /** An admin ends one session by its id (from `list`); audited. */
  async revoke(id: string, actor: string): Promise<SessionSummary> {
    if (!isUuid(id)) throw notFound(`The session "${echoInput(id)}"`);
    return this.knex.transaction(async (trx) => {
      const [row] = (await trx("site_sessions as s")
        .join("users as u", "u.id", "s.user_id")
        .where("s.id", id)
        .select("s.*", "u.email")) as SummaryRow[];
      if (!row) throw notFound(`The session "${echoInput(id)}"`);
      await trx("site_sessions").where({ id }).delete();
      await this.audit.record(
        {
          actor,
          action: "site_session.revoked",
          targetType: "user",
          targetId: row.email,
          details: { sessions: 1, session_id: id, method: row.method },
        },
        trx,
      );
      return summaryOf(row);
    });
  }

  /** An admin ends every session of one person (signed out everywhere); audited. Answers how many. */
  async revokeUser(email: string, actor: string): Promise<number> {
    const normalized = normalizeEmail(email);
    return this.knex.transaction(async (trx) => {
      const ended = await trx("site_sessions")
        .whereIn("user_id", trx("users").select("id").where({ email: normalized }))
        .delete();
      await this.audit.record(
        {
          actor,
          action: "site_session.revoked",
          targetType: "user",
          targetId: normalized,
          details: { sessions: ended },
        },
        trx,
      );
      return ended;
    });
  }
}
