import { createHash, randomBytes } from "node:crypto";
import type { Knex } from "knex";
import type { UserPrincipal } from "../../authz/index.js";
import { isUuid, notFound, unauthenticated } from "../../core/index.js";
import type { AuditLog } from "../../governance/index.js";

/**
 * API keys for the REST API: `sb_live_` and 43 random characters (256 bits). The key is
 * shown once, when made; only its SHA-256 is stored (enough for 256 random bits: there is
 * nothing to brute-force), with a short prefix so people can tell their keys apart.
 */

const KEY_PREFIX = "sb_live_";
const SHOWN_PREFIX_LENGTH = KEY_PREFIX.length + 6;
/** Writing last_used_at on every request would turn each read into a write. */
const LAST_USED_PRECISION = "1 minute";
const LAST_USED_PRECISION_MS = 60_000;

export interface ApiKeySummary {
  id: string;
  name: string | null;
  prefix: string;
  userEmail: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface CreatedApiKey extends ApiKeySummary {
  /** The key itself: shown once, never stored. */
  key: string;
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

interface KeyRow {
  id: string;
  name: string | null;
  prefix: string;
  email: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const summaryOf = (row: KeyRow): ApiKeySummary => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  userEmail: row.email,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

export class ApiKeys {
  constructor(
    private readonly knex: Knex,
    private readonly audit: AuditLog,
  ) {}

  /** Makes a key acting as the user (`userId`, whose email is `userEmail`). */
  async create(
    owner: { userId: string; userEmail: string; name?: string | undefined },
    actor: string,
  ): Promise<CreatedApiKey> {
    const key = `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
    return this.knex.transaction(async (trx) => {
      const [row] = (await trx("api_keys")
        .insert({
          kind: "api",
          name: owner.name ?? null,
          prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
          key_hash: hashApiKey(key),
          user_id: owner.userId,
        })
        .returning("*")) as KeyRow[];
      const summary = summaryOf({ ...(row as KeyRow), email: owner.userEmail });
      await this.audit.record(
        {
          actor,
          action: "api_key.created",
          targetType: "api_key",
          targetId: summary.id,
          details: { user: owner.userEmail, name: summary.name, prefix: summary.prefix },
        },
        trx,
      );
      return { ...summary, key };
    });
  }

  /** API keys (not proxy keys), newest first; revoked ones included so the history shows. */
  async list(): Promise<ApiKeySummary[]> {
    const rows = (await this.knex("api_keys as k")
      .leftJoin("users as u", "u.id", "k.user_id")
      .where("k.kind", "api")
      .orderBy("k.created_at", "desc")
      .select("k.*", "u.email")) as KeyRow[];
    return rows.map(summaryOf);
  }

  async revoke(id: string, actor: string): Promise<ApiKeySummary> {
    if (!isUuid(id)) throw notFound(`The API key "${id}"`);
    return this.knex.transaction(async (trx) => {
      const [row] = (await trx("api_keys")
        .where({ id, kind: "api" })
        .update({ revoked_at: trx.raw("coalesce(revoked_at, now())") })
        .returning("*")) as KeyRow[];
      if (!row) throw notFound(`The API key "${id}"`);
      await this.audit.record(
        { actor, action: "api_key.revoked", targetType: "api_key", targetId: id },
        trx,
      );
      return summaryOf({ ...row, email: null });
    });
  }

  /**
   * A deactivated person's keys are revoked, not only refused: reactivating them later does
   * not bring back keys they may have lost control of. Audited; answers how many.
   */
  async revokeAllOf(userId: string, actor: string): Promise<number> {
    return this.knex.transaction(async (trx) => {
      const revoked = await trx("api_keys")
        .where({ user_id: userId, kind: "api" })
        .whereNull("revoked_at")
        .update({ revoked_at: trx.fn.now() });
      if (revoked > 0) {
        await this.audit.record(
          {
            actor,
            action: "api_key.revoked",
            targetType: "user",
            targetId: userId,
            details: { keys: revoked, reason: "deactivated" },
          },
          trx,
        );
      }
      return revoked;
    });
  }

  /** The person a presented key acts as; 401 for an unknown, revoked or expired key. */
  async authenticate(key: string): Promise<UserPrincipal> {
    const row = (await this.knex("api_keys as k")
      .join("users as u", "u.id", "k.user_id")
      .where({ "k.key_hash": hashApiKey(key), "k.kind": "api" })
      .first(
        "k.id",
        "k.revoked_at",
        "k.expires_at",
        "k.last_used_at",
        "u.id as user_id",
        "u.email",
        "u.display_name",
        "u.is_active",
      )) as
      | {
          id: string;
          revoked_at: Date | null;
          expires_at: Date | null;
          last_used_at: Date | null;
          user_id: string;
          email: string;
          display_name: string | null;
          is_active: boolean;
        }
      | undefined;
    if (!row) throw unauthenticated("The API key is not valid. Check it, or create a new one.");
    if (row.revoked_at) throw unauthenticated("The API key was revoked. Create a new one.");
    if (row.expires_at && row.expires_at.getTime() <= Date.now())
      throw unauthenticated("The API key has expired. Create a new one.");
    if (!row.is_active) throw unauthenticated("The API key's user is deactivated.");
    // Only when it is stale: most requests then cost one read and no write.
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_PRECISION_MS) {
      await this.knex("api_keys")
        .where({ id: row.id })
        .where((q) =>
          q
            .whereNull("last_used_at")
            .orWhere(
              "last_used_at",
              "<",
              this.knex.raw(`now() - interval '${LAST_USED_PRECISION}'`),
            ),
        )
        .update({ last_used_at: this.knex.fn.now() });
    }
    return {
      kind: "user",
      userId: row.user_id,
      email: row.email,
      displayName: row.display_name ?? undefined,
      via: "api",
    };
  }
}
