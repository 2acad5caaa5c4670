import type { Knex } from "knex";
import type { KeyWrapper } from "../crypto/key-wrapper.js";
import { dataKeyContext, type SecretRow } from "./secret-store.js";

export interface RotationReport {
  /** The key every data key is now wrapped under. */
  currentKeyId: string;
  /** Data keys re-wrapped by this run. */
  rewrapped: number;
  /** Secrets whose data key could not be unwrapped, with why; they are left as they were. */
  failed: { name: string; reason: string }[];
}

/**
 * Re-wraps every data key that is not under the current key-encryption key, in batches. The
 * values and data keys do not change, only their wrapping, so it is safe while Switchboard
 * serves: each row is written only if it still holds the data key that was re-wrapped (a
 * secret updated meanwhile already has a data key under the current key). Running it again
 * does nothing more.
 */
export async function rotateDataKeys(
  knex: Knex,
  keys: KeyWrapper,
  options: { batchSize?: number; onBatch?: (done: number) => void } = {},
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 100;
  const report: RotationReport = { currentKeyId: keys.currentKeyId, rewrapped: 0, failed: [] };
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const rows = (await knex("secrets")
      .select("id", "name", "data_key", "key_id", "version")
      .whereNot("key_id", keys.currentKeyId)
      .where("id", ">", after)
      .orderBy("id")
      .limit(batchSize)) as Pick<SecretRow, "id" | "name" | "data_key" | "key_id" | "version">[];
    for (const row of rows) {
      const context = dataKeyContext(row.id, row.version);
      let rewrapped: { keyId: string; wrapped: Buffer };
      try {
        const dataKey = await keys.unwrap({ keyId: row.key_id, wrapped: row.data_key }, context);
        rewrapped = await keys.wrap(dataKey, context);
      } catch (error) {
        report.failed.push({ name: row.name, reason: (error as Error).message });
        continue;
      }
      const updated = await knex("secrets")
        .where({ id: row.id, key_id: row.key_id, version: row.version })
        .update({ data_key: rewrapped.wrapped, key_id: rewrapped.keyId });
      report.rewrapped += updated;
    }
    options.onBatch?.(report.rewrapped);
    if (rows.length < batchSize) return report;
    after = (rows.at(-1) as { id: string }).id;
  }
}
