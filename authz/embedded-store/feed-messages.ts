import type { TupleKey } from "../types.js";

/**
 * The change feed's NOTIFY payloads: a writer's changes as JSON, split so each stays under
 * PostgreSQL's 8000-byte limit, and read back with their shape checked.
 */

const MAX_PAYLOAD = 7000;

export interface TupleChanges {
  written: TupleKey[];
  deleted: TupleKey[];
}

interface Message extends TupleChanges {
  /** The writing process, which has applied its own changes already. */
  origin: string;
}

/** The payloads that announce `changes`, deletions first, in order. */
export function* encodeChanges(origin: string, changes: TupleChanges): Generator<string> {
  let current: Message = { origin, written: [], deleted: [] };
  let size = 100;
  const flush = () => {
    const payload = JSON.stringify(current);
    current = { origin, written: [], deleted: [] };
    size = 100;
    return payload;
  };
  for (const [list, key] of [
    [changes.deleted, "deleted"],
    [changes.written, "written"],
  ] as const) {
    for (const tuple of list) {
      const tupleSize = JSON.stringify(tuple).length + 1;
      if (size + tupleSize > MAX_PAYLOAD) yield flush();
      current[key].push(tuple);
      size += tupleSize;
    }
  }
  if (current.written.length > 0 || current.deleted.length > 0) yield flush();
}

/**
 * A payload read back, or undefined when it is not one of ours: anyone who may connect to
 * the database may NOTIFY on the channel, and a listener that threw on a bad payload would
 * end the process.
 */
export function decodeChanges(payload: string): Message | undefined {
  try {
    const message: unknown = JSON.parse(payload);
    return isMessage(message) ? message : undefined;
  } catch {
    return undefined;
  }
}

function isTuple(value: unknown): value is TupleKey {
  const tuple = value as TupleKey;
  return (
    typeof tuple === "object" &&
    tuple !== null &&
    typeof tuple.user === "string" &&
    typeof tuple.relation === "string" &&
    typeof tuple.object === "string"
  );
}

function isMessage(value: unknown): value is Message {
  const message = value as Message;
  return (
    typeof message === "object" &&
    message !== null &&
    typeof message.origin === "string" &&
    Array.isArray(message.written) &&
    Array.isArray(message.deleted) &&
    message.written.every(isTuple) &&
    message.deleted.every(isTuple)
  );
}
