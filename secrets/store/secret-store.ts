import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { conflict } from "../../core/index.js";
import { newDataKey, open, SealError, seal } from "../crypto/envelope.js";
import { KeyUnavailableError, type KeyWrapper } from "../crypto/key-wrapper.js";
import { storeOff, unreadable } from "./store-errors.js";

/** What is known of a secret besides its value: all that is ever shown. */
export interface SecretRecord {
  name: string;
  /** `user:EMAIL` or `team:SLUG`. */
  owner: string;
  description: string;
  /** 1 for the first value, one more for each new one. */
  version: number;
  /** The key-encryption key its data key is wrapped under. */
  keyId: string;
  createdBy: string;
  createdAt: Date;
  updatedBy: string;
  updatedAt: Date;
}

export interface SecretRow {
  id: string;
  name: string;
  owner: string;
  description: string;
  ciphertext: Buffer;
  data_key: Buffer;
  key_id: string;
  version: number;
  created_by: string;
  created_at: Date;
  updated_by: string;
  updated_at: Date;
}

const METADATA = [
  "name",
  "owner",
  "description",
  "version",
  "key_id",
  "created_by",
  "created_at",
  "updated_by",
  "updated_at",
] as const;

function recordOf(row: Pick<SecretRow, (typeof METADATA)[number]>): SecretRecord {
  return {
    name: row.name,
    owner: row.owner,
    description: row.description,
    version: row.version,
    keyId: row.key_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

/** What the value and its data key are sealed to: this secret, this version. */
export const valueContext = (id: string, version: number) => `secret-value:${id}:v${version}`;
export const dataKeyContext = (id: string, version: number) => `secret-data-key:${id}:v${version}`;

/**
 * The `secrets` table: values sealed (AES-256-GCM) under a fresh data key each, data keys
 * wrapped by `keys`. No permission checks here (see `SecretService`); values leave only
 * through `reveal`, which the runtime resolver alone calls. Without `keys` the store is off.
 */
export class SecretStore {
  constructor(
    private readonly knex: Knex,
    private readonly keys: KeyWrapper | undefined,
  ) {}

  get enabled(): boolean {
    return this.keys !== undefined;
  }

  async find(name: string): Promise<SecretRecord | undefined> {
    this.wrapper();
    const row = await this.knex("secrets").select(METADATA).where({ name }).first();
    return row && recordOf(row);
  }

  /** The secrets with these names (every one when `names` is undefined), by name. */
  async findMany(names?: readonly string[]): Promise<SecretRecord[]> {
    this.wrapper();
    if (names?.length === 0) return [];
    const query = this.knex("secrets").select(METADATA).orderBy("name");
    if (names) query.whereIn("name", names as string[]);
    return (await query).map(recordOf);
  }

  /** A new secret; undefined when the name is taken. Pass `trx` to commit it with an audit entry. */
  async create(
    input: { name: string; owner: string; description: string; value: string; actor: string },
    trx: Knex = this.knex,
  ): Promise<SecretRecord | undefined> {
    const id = randomUUID();
    const sealed = await this.sealValue(id, 1, input.value);
    const rows = await trx("secrets")
      .insert({
        id,
        name: input.name,
        owner: input.owner,
        description: input.description,
        ...sealed,
        version: 1,
        created_by: input.actor,
        updated_by: input.actor,
      })
      .onConflict("name")
      .ignore()
      .returning(METADATA);
    return rows[0] && recordOf(rows[0]);
  }

  /**
   * A new value (a new version, under a new data key) and/or description. Two updates at
   * once: the second is refused rather than lost.
   */
  async update(
    name: string,
    change: { value?: string | undefined; description?: string | undefined; actor: string },
    trx: Knex = this.knex,
  ): Promise<SecretRecord | undefined> {
    this.wrapper();
    const current = (await trx("secrets").select("id", "version").where({ name }).first()) as
      | Pick<SecretRow, "id" | "version">
      | undefined;
    if (!current) return undefined;
    const version = change.value === undefined ? current.version : current.version + 1;
    const sealed =
      change.value === undefined ? {} : await this.sealValue(current.id, version, change.value);
    const rows = await trx("secrets")
      .where({ id: current.id, version: current.version })
      .update({
        ...sealed,
        version,
        ...(change.description === undefined ? {} : { description: change.description }),
        updated_by: change.actor,
        updated_at: trx.fn.now(),
      })
      .returning(METADATA);
    if (!rows[0]) throw conflict(`The secret "${name}" was changed at the same time; try again.`);
    return recordOf(rows[0]);
  }

  async remove(name: string, trx: Knex = this.knex): Promise<boolean> {
    this.wrapper();
    return (await trx("secrets").where({ name }).delete()) > 0;
  }

  /** The value, for a runtime call only; undefined when there is no such secret. */
  async reveal(name: string): Promise<string | undefined> {
    const keys = this.wrapper();
    const row = (await this.knex("secrets").where({ name }).first()) as SecretRow | undefined;
    if (!row) return undefined;
    try {
      const dataKey = await keys.unwrap(
        { keyId: row.key_id, wrapped: row.data_key },
        dataKeyContext(row.id, row.version),
      );
      return open(dataKey, row.ciphertext, valueContext(row.id, row.version)).toString("utf8");
    } catch (error) {
      if (error instanceof SealError) {
        throw unreadable(
          name,
          new KeyUnavailableError("its stored value was changed outside Switchboard.", {
            cause: error,
          }),
        );
      }
      throw unreadable(name, error);
    }
  }

  async close(): Promise<void> {
    await this.keys?.close?.();
  }

  /** The key wrapper; throws `secret_store_off` when there is none. */
  wrapper(): KeyWrapper {
    if (!this.keys) throw storeOff();
    return this.keys;
  }

  private async sealValue(id: string, version: number, value: string) {
    const keys = this.wrapper();
    const dataKey = newDataKey();
    const wrapped = await keys.wrap(dataKey, dataKeyContext(id, version));
    return {
      ciphertext: seal(dataKey, Buffer.from(value, "utf8"), valueContext(id, version)),
      data_key: wrapped.wrapped,
      key_id: wrapped.keyId,
    };
  }
}
