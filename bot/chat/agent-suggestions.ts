import type { Principal } from "../../authz/index.js";
import type { Agent, AgentDirectory, AgentRegistry } from "../../directory/index.js";

const MAX_CANDIDATES = 300;
const STOP_WORDS = new Set(
  "a an and are can could do does for from have help how i in is it me my of on or please the this to what when where which who why with you your".split(
    " ",
  ),
);

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 2 && !STOP_WORDS.has(word));
}

/** How well an agent fits the request: shared words, the name and title counting double. */
function score(agent: Agent, wanted: ReadonlySet<string>): number {
  const strong = new Set(words(`${agent.name} ${agent.title} ${agent.tags.join(" ")}`));
  const weak = new Set(
    words(
      [
        agent.description,
        ...agent.manifest.spec.skills.flatMap((skill) => [skill.name, skill.description]),
      ].join(" "),
    ),
  );
  let total = 0;
  for (const word of wanted) total += strong.has(word) ? 2 : weak.has(word) ? 1 : 0;
  return total;
}

/**
 * The agents this person may run that fit a request naming none: the ones sharing words
 * with it first, then the rest by name, so there is always something to pick from when the
 * person may run anything at all. Enabled agents only. `include` is an agent the request
 * named but did not pick (see named-agent.ts): it is among them when the person may run
 * it, so one click picks it deliberately.
 */
export async function suggestAgents(
  deps: { directory: AgentDirectory; registry: AgentRegistry },
  principal: Principal,
  request: string,
  options: { limit?: number; include?: string | undefined } = {},
): Promise<Agent[]> {
  const limit = options.limit ?? 5;
  const runnable = (await deps.directory.agentNamesFor(principal, "runner"))
    .sort()
    .slice(0, MAX_CANDIDATES);
  // One query for them all (live agents only), not one per agent.
  const agents = (await deps.registry.catalog.findLive(runnable)).filter(
    (agent) => agent.state === "enabled",
  );
  const wanted = new Set(words(request));
  const ranked = agents
    .map((agent) => ({ agent, score: score(agent, wanted) }))
    .sort((a, b) => b.score - a.score || a.agent.name.localeCompare(b.agent.name))
    .map((entry) => entry.agent);
  const shown = ranked.slice(0, limit);
  const named = ranked.find((agent) => agent.name === options.include);
  if (named && !shown.includes(named)) shown.splice(limit - 1, 1, named);
  return shown;
}
