/**
 * How Switchboard expects its OpenFGA server (v1.18) to run, as the server's environment
 * variables: docker-compose.yml, the Helm chart and the test suite's server all set these
 * (test/compose.test.ts and test/helm-chart.test.ts hold them to it).
 *
 * Why (bench/README.md, "directory/" on OpenFGA): on this model a Check costs about 25
 * datastore queries (viewer ⊇ runner ⊇ editor ⊇ owner, each open to users and team members,
 * plus the owning team and the platform), so repeated checks of one agent (its page, its
 * buttons, a run) are answered from the server's caches. The cache controller reads the
 * changelog at most once a second and drops what a write made stale, so a write made outside
 * Switchboard reaches checks within about a second; Switchboard's own writes are asked about
 * with HIGHER_CONSISTENCY, past these caches, for OPENFGA_LIST_CACHE_TTL_MS afterwards, which
 * must therefore be at least the caches' TTL (10 s, OpenFGA's default). Lists of agents come
 * from StreamedListObjects (no cap on results); its deadline stays above Switchboard's own
 * OPENFGA_TIMEOUT_MS, so a slow list fails as "could not be checked" instead of ending early
 * with some agents missing.
 */
export const OPENFGA_SERVER_SETTINGS: Readonly<Record<string, string>> = {
  OPENFGA_CHECK_QUERY_CACHE_ENABLED: "true",
  OPENFGA_CHECK_ITERATOR_CACHE_ENABLED: "true",
  OPENFGA_LIST_OBJECTS_ITERATOR_CACHE_ENABLED: "true",
  OPENFGA_CACHE_CONTROLLER_ENABLED: "true",
  OPENFGA_CACHE_CONTROLLER_TTL: "1s",
  OPENFGA_LIST_OBJECTS_DEADLINE: "5s",
};
