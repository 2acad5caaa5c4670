/**
 * Sessions (one per surface conversation and agent), runs with their ordered events and
 * transcripts, the run queue (BullMQ on Redis, or in-process) and the worker that drives
 * runtimes. Depends on runtimes and governance.
 *
 * Its public API is exported from here as it is built.
 */
export {};
