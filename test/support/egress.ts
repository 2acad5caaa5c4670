import { EgressPolicy } from "../../runtimes/index.js";

/**
 * For tests that build adapters themselves, with agent doubles on 127.0.0.1: loopback may
 * be reached, every other internal address stays refused. A bare adapter refuses loopback.
 */
export const loopbackEgress = new EgressPolicy({ allowLoopback: true });
