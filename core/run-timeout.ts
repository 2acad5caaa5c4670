/**
 * The longest one turn of a run may take: 24 hours. A turn is one answer in a
 * conversation; work that takes longer than a day belongs in a job the agent starts and
 * reports on, not in a run holding a worker's slot and a session's lease. The bound also
 * keeps every timer made from it far inside what Node's setTimeout can hold (2^31-1 ms,
 * about 24.8 days; a longer delay fires at once). The manifest's
 * `spec.limits.timeout_seconds`, RUN_TIMEOUT_SECONDS and the engine all hold to it.
 */
export const MAX_RUN_TIMEOUT_SECONDS = 24 * 60 * 60;

/** What a run's time limit may be, as a validation message says it ("must be …"). */
export const RUN_TIMEOUT_RULE = `a whole number of seconds from 1 to ${MAX_RUN_TIMEOUT_SECONDS} (24 hours)`;
