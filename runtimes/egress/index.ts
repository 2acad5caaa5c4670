/**
 * Egress: where agent runtimes may connect. One policy (internal addresses refused unless
 * RUNTIME_EGRESS_ALLOW lists them) and one checked dialer that every adapter's HTTP client
 * goes through, checked at connect time after DNS resolution, on every redirect.
 */
export { isInternalAddress, isLoopbackAddress } from "./address-ranges.js";
export { checkedAgent, checkedFetch, checkedLookup } from "./checked-dialer.js";
export { type CheckedTunnel, checkedTunnel } from "./checked-tunnel.js";
export {
  EgressPolicy,
  type EgressPolicyOptions,
  egressAllowProblem,
  type HostResolver,
  type ResolvedAddress,
} from "./egress-policy.js";
export { EgressRefusedError, egressRefusalIn } from "./egress-refused.js";
