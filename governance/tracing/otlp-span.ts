import { createHash } from "node:crypto";

/** Attribute values OTLP carries; arrays and maps are not needed here. */
export type AttributeValue = string | number | boolean;

/** A finished span, as Switchboard builds it (times in ms since the epoch, may be fractional). */
export interface FinishedSpan {
  /** 32 hex characters. */
  traceId: string;
  /** 16 hex characters. */
  spanId: string;
  parentSpanId?: string | undefined;
  name: string;
  kind: "internal" | "server" | "client";
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue | null | undefined>;
  /** Set for a span that failed: OTLP status ERROR with this message. */
  error?: string | undefined;
}

const KINDS = { internal: 1, server: 2, client: 3 } as const;

/** A run's trace: its id without dashes, so the run, its attempts and its model calls join up. */
export function traceIdOfRun(runId: string): string {
  const hex = runId.replace(/-/g, "").toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex)
    ? hex
    : createHash("sha256").update(runId).digest("hex").slice(0, 32);
}

/** A span id derived from a name, so two processes name the same span alike (an attempt of a run). */
export function spanIdOf(name: string): string {
  return createHash("sha256").update(name).digest("hex").slice(0, 16);
}

/** A run's span: the parent of the model calls made with the run's proxy keys, in any process. */
export const runSpanId = (runId: string) => spanIdOf(`run:${runId}`);

function anyValue(value: AttributeValue) {
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "number") {
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  }
  return { stringValue: value };
}

const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

export function otlpAttributes(attributes: Record<string, AttributeValue | null | undefined>) {
  return Object.entries(attributes)
    .filter(
      (entry): entry is [string, AttributeValue] => entry[1] !== null && entry[1] !== undefined,
    )
    .map(([key, value]) => ({ key, value: anyValue(value) }));
}

/** A span in OTLP/JSON (ids in hex, times in nanoseconds as strings, per the protobuf JSON mapping). */
export function otlpSpan(span: FinishedSpan) {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    name: span.name,
    kind: KINDS[span.kind],
    startTimeUnixNano: nanos(span.startMs),
    endTimeUnixNano: nanos(Math.max(span.endMs, span.startMs)),
    attributes: otlpAttributes(span.attributes),
    status: span.error ? { code: 2, message: span.error } : { code: 0 },
  };
}
