/** A UUID as Switchboard issues them (any version), in either case. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether an id from outside looks like one of ours: checked before it reaches a uuid column. */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
