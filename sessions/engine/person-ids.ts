import { createHmac, randomBytes } from "node:crypto";
import type { Knex } from "knex";

/**
 * The opaque, stable id a runtime may know a person by (`TurnRequest.personId`): an
 * HMAC-SHA256 of Switchboard's user id under the deployment's own key (table
 * `person_id_key`, made on first use). A runtime can keep a person's memory or sandbox by
 * it, but cannot turn it back into the user id or the email, and ids from two deployments
 * never match. The key is read once per process; every process reads the same row.
 */
export class PersonIds {
  private key: Promise<Buffer> | undefined;

  constructor(private readonly knex: Knex) {}

  async of(userId: string): Promise<string> {
    const key = await this.loadKey();
    return `sb-${createHmac("sha256", key).update(userId).digest("hex")}`;
  }

  private loadKey(): Promise<Buffer> {
    this.key ??= this.readOrMake().catch((error) => {
      this.key = undefined; // a database outage must not stick: try again next turn
      throw error;
    });
    return this.key;
  }

  private async readOrMake(): Promise<Buffer> {
    // Two processes may race to make it: the first insert wins, both read the winner.
    await this.knex("person_id_key")
      .insert({ id: 1, key: randomBytes(32) })
      .onConflict("id")
      .ignore();
    const row: { key: Buffer | Uint8Array } | undefined = await this.knex("person_id_key")
      .where({ id: 1 })
      .first("key");
    if (!row) throw new Error("person_id_key has no row after it was made");
    return Buffer.from(row.key);
  }
}
