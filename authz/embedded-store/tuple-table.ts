import type { Knex } from "knex";
import type { ReadFilter, TupleKey } from "../types.js";

/**
 * The `authz_tuples` table: where the embedded evaluator's tuples persist. OpenFGA calls
 * the subject of a tuple its "user"; the column is `subject` because `user` is reserved
 * in SQL.
 */
const TABLE = "authz_tuples";

interface TupleRow {
  object: string;
  relation: string;
  subject: string;
}

const toTuple = (row: TupleRow): TupleKey => ({
  object: row.object,
  relation: row.relation,
  user: row.subject,
});
const toRow = (tuple: TupleKey): TupleRow => ({
  object: tuple.object,
  relation: tuple.relation,
  subject: tuple.user,
});

export async function loadAllTuples(knex: Knex): Promise<TupleKey[]> {
  const rows: TupleRow[] = await knex(TABLE)
    .select("object", "relation", "subject")
    .orderBy("revision");
  return rows.map(toTuple);
}

/**
 * Writes and deletes in one transaction; returns what actually changed (a tuple that was
 * already there, or already gone, is no change).
 */
export async function writeTuples(
  trx: Knex.Transaction,
  writes: TupleKey[],
  deletes: TupleKey[],
): Promise<{ written: TupleKey[]; deleted: TupleKey[] }> {
  const deleted: TupleKey[] = [];
  for (const tuple of deletes) {
    const rows: TupleRow[] = await trx(TABLE)
      .where(toRow(tuple))
      .delete()
      .returning(["object", "relation", "subject"]);
    deleted.push(...rows.map(toTuple));
  }
  const written: TupleKey[] = [];
  for (let i = 0; i < writes.length; i += 500) {
    const rows: TupleRow[] = await trx(TABLE)
      .insert(writes.slice(i, i + 500).map(toRow))
      .onConflict(["object", "relation", "subject"])
      .ignore()
      .returning(["object", "relation", "subject"]);
    written.push(...rows.map(toTuple));
  }
  return { written, deleted };
}

export async function readTuples(knex: Knex, filter: ReadFilter): Promise<TupleKey[]> {
  const query = knex(TABLE).select("object", "relation", "subject").orderBy("revision");
  if (filter.user) query.where("subject", filter.user);
  if (filter.relation) query.where("relation", filter.relation);
  if (filter.object) {
    // `type:` alone means every object of that type, as in OpenFGA's Read.
    if (filter.object.endsWith(":"))
      query.where("object", "like", `${filter.object.replace(/[%_\\]/g, "\\$&")}%`);
    else query.where("object", filter.object);
  }
  return (await query).map(toTuple);
}
