import type {
  Agent,
  AgentPage,
  AgentRegistrationAnswer,
  FacetName,
  Facets,
} from "../../registry/index.js";
import { type Html, html } from "../html.js";
import { agentIcon, lifecycleBadge } from "./badges.js";
import { subjectLabel } from "./layout.js";

/** The catalog's query string: free text, the four facets and the page cursor. */
export interface CatalogQuery {
  q?: string | undefined;
  owner?: string | undefined;
  tag?: string | undefined;
  runtime?: string | undefined;
  lifecycle?: string | undefined;
  cursor?: string | undefined;
}

const FACETS: { name: FacetName; heading: string; label: (value: string) => string }[] = [
  { name: "owner", heading: "Owner", label: subjectLabel },
  { name: "tag", heading: "Tag", label: (v) => v },
  { name: "runtime", heading: "Runtime", label: (v) => v },
  { name: "lifecycle", heading: "Lifecycle", label: (v) => v },
];

export function catalogHref(query: CatalogQuery, change: Partial<CatalogQuery> = {}): string {
  const merged: CatalogQuery = { ...query, cursor: undefined, ...change };
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(merged)) if (value) params.set(key, value);
  const text = params.toString();
  return text ? `/?${text}` : "/";
}

/** Each agent has one lifecycle, so the lifecycle counts add up to the number of matches. */
function totalOf(facets: Facets | undefined, query: CatalogQuery): number | undefined {
  if (!facets) return undefined;
  const counts = facets.lifecycle.filter((f) => !query.lifecycle || f.value === query.lifecycle);
  return counts.reduce((sum, f) => sum + f.count, 0);
}

function facetGroup(query: CatalogQuery, facets: Facets, facet: (typeof FACETS)[number]): Html {
  const values = facets[facet.name];
  if (values.length === 0) return html``;
  const active = query[facet.name];
  return html`<section class="facet" aria-labelledby="facet-${facet.name}">
  <h3 id="facet-${facet.name}">${facet.heading}</h3>
  <ul>
    ${values.map((v) => {
      const on = active === v.value;
      return html`<li><a class="facet-link${on ? " is-active" : ""}" href="${catalogHref(query, { [facet.name]: on ? undefined : v.value })}"${on ? html` aria-current="true"` : ""}><span>${facet.label(v.value)}</span><span class="count">${v.count}<span class="visually-hidden"> agents</span></span></a></li>`;
    })}
  </ul>
</section>`;
}

/** "Used 12 times in the last 30 days"; absent when this Switchboard counts no runs. */
function useFact(runs: number | undefined): Html | undefined {
  if (runs === undefined) return undefined;
  return html`<div><dt>Use, last 30 days</dt><dd>${runs === 0 ? "no runs" : `${runs.toLocaleString("en-US")} ${runs === 1 ? "run" : "runs"}`}</dd></div>`;
}

function agentCard(agent: Agent, runs: number | undefined): Html {
  return html`<li class="card agent-card">
  <div class="card-head">
    ${agentIcon(agent)}
    <div>
      <h3 class="card-title"><a class="card-link" href="/agents/${agent.name}">${agent.title}</a></h3>
      <p class="card-name">${agent.name}</p>
    </div>
    ${lifecycleBadge(agent.lifecycle)}
  </div>
  ${agent.state === "suspended" && html`<p class="notice notice-suspended"><strong>Suspended</strong>${agent.stateReason ? html` — ${agent.stateReason}` : ""}</p>`}
  <p class="card-description">${agent.description || "No description yet."}</p>
  <dl class="card-facts">
    <div><dt>Owner</dt><dd>${subjectLabel(agent.owner)}</dd></div>
    <div><dt>Runtime</dt><dd>${agent.runtimeType}</dd></div>
    ${useFact(runs)}
  </dl>
  ${agent.tags.length > 0 && html`<ul class="tags" aria-label="Tags">${agent.tags.map((t) => html`<li class="tag">${t}</li>`)}</ul>`}
</li>`;
}

/** Facets and results: the part that search-as-you-type replaces. */
export function catalogBody(
  query: CatalogQuery,
  page: AgentPage,
  runCounts?: ReadonlyMap<string, number>,
): Html {
  const total = totalOf(page.facets, query);
  const filtered = Boolean(query.q || query.owner || query.tag || query.runtime || query.lifecycle);
  return html`<div class="catalog-layout" id="catalog-body">
  <aside class="facets" aria-label="Filters">
    <h2 class="visually-hidden">Filters</h2>
    ${page.facets && FACETS.map((f) => facetGroup(query, page.facets as Facets, f))}
    ${filtered && html`<p><a class="clear-link" href="/">Clear all filters</a></p>`}
  </aside>
  <section class="results" aria-labelledby="results-heading">
    <h2 id="results-heading" class="results-count">${
      total === undefined ? "Agents" : `${total} ${total === 1 ? "agent" : "agents"}`
    }${query.q ? html` matching “${query.q}”` : ""}</h2>
    ${
      page.items.length === 0
        ? html`<div class="empty card"><p><strong>No agents match.</strong></p><p>Try fewer words, or <a href="/">clear the filters</a>. An agent you have no access to does not appear here: ask its owners.</p></div>`
        : html`<ul class="card-grid">${page.items.map((a) => agentCard(a, runCounts && (runCounts.get(a.id) ?? 0)))}</ul>`
    }
    <nav class="pager" aria-label="Pages">
      ${query.cursor && html`<a href="${catalogHref(query)}">← First page</a>`}
      ${page.nextCursor && html`<a rel="next" href="${catalogHref(query, { cursor: page.nextCursor })}">Next page →</a>`}
    </nav>
  </section>
</div>`;
}

/** Whether the person may register agents of their own, and if not who may. */
function registrationNote(registration: AgentRegistrationAnswer | undefined): Html | undefined {
  if (!registration) return undefined;
  return registration.allowed
    ? html`<p class="muted small" id="registration">You may register agents: send a manifest to <code>POST /api/v1/agents</code>, or have an operator apply it with <code>switchboard agents apply</code>.</p>`
    : html`<p class="muted small" id="registration">You may not register agents. ${registration.refusal}</p>`;
}

/** The catalog: a GET search form (works without JS; site.js narrows as you type) and the body. */
export function catalogPage(
  query: CatalogQuery,
  page: AgentPage,
  runCounts?: ReadonlyMap<string, number>,
  registration?: AgentRegistrationAnswer,
): Html {
  return html`<div class="page-intro">
  <h1>Find an agent</h1>
  <p class="lede">Every agent you may use, whatever it runs on. Search, filter, then open one to see what it does and how to reach it.</p>
  ${registrationNote(registration)}
</div>
<form class="search" role="search" method="get" action="/" data-live-search>
  <label for="q">Search agents</label>
  <div class="search-row">
    <input id="q" name="q" type="search" value="${query.q ?? ""}" placeholder="e.g. tickets, invoices, release notes" autocomplete="off">
    ${(["owner", "tag", "runtime", "lifecycle"] as const).map((k) => query[k] && html`<input type="hidden" name="${k}" value="${query[k]}">`)}
    <button type="submit" class="button">Search</button>
  </div>
</form>
<p id="search-status" class="visually-hidden" aria-live="polite"></p>
${catalogBody(query, page, runCounts)}`;
}
