import { a2aCardUrl } from "../../a2a/index.js";
import type { Agent, AgentPermissions } from "../../registry/index.js";
import { type Html, html, safeHref } from "../html.js";
import { renderMarkdown } from "../markdown.js";
import { agentIcon, lifecycleBadge, stateNotice } from "./badges.js";
import { formatUsd } from "./format.js";
import { subjectLabel } from "./layout.js";

/** Deep links into chat, when Slack or Teams is configured; absent ones are simply not shown. */
export interface ChatLinks {
  slack?: ((agentName: string) => string) | undefined;
  teams?: ((agentName: string) => string) | undefined;
}

/** Who may run it, in words: the manifest's run list, the owner, and an owning team's members. */
function runners(agent: Agent): string[] {
  const { owner } = agent.manifest.metadata;
  const label = (subject: string) =>
    subject.startsWith("team:")
      ? `Members of ${subjectLabel(subject).toLowerCase()}`
      : subjectLabel(subject);
  const listed = agent.manifest.spec.access.run.map(label);
  const owners = owner.startsWith("team:") ? [label(owner)] : [`${subjectLabel(owner)} (owner)`];
  return [...new Set(listed.includes("Everyone") ? ["Everyone"] : [...owners, ...listed])];
}

function contactsList(agent: Agent): Html {
  const { contacts, owner } = agent.manifest.metadata;
  return html`<dl class="facts">
  <div><dt>Owner</dt><dd>${subjectLabel(owner)}</dd></div>
  ${contacts.map(
    (c) =>
      html`<div><dt>Contact</dt><dd>${c.name ?? ""}${c.email && html` <a href="mailto:${c.email}">${c.email}</a>`}${c.slack && html` <span class="mono">${c.slack}</span>`}</dd></div>`,
  )}
</dl>`;
}

function requestAccess(agent: Agent, form: Html | undefined): Html {
  const { contacts, owner } = agent.manifest.metadata;
  const mail =
    contacts.find((c) => c.email)?.email ??
    (owner.startsWith("user:") ? owner.slice("user:".length) : undefined);
  const subject = encodeURIComponent(`Access to run the ${agent.title} agent`);
  const slack = contacts.find((c) => c.slack)?.slack;
  return html`<section class="card callout" aria-labelledby="request-access">
  <h2 id="request-access">You can view this agent but not run it</h2>
  <p>Ask its owners (${subjectLabel(owner)}) for access${
    mail
      ? html`: <a class="button" href="mailto:${mail}?subject=${subject}">Email ${mail}</a>`
      : slack
        ? html` in <span class="mono">${slack}</span>.`
        : "."
  }</p>
  ${form}
</section>`;
}

/** What the runs engine adds to the page, when this Switchboard has one. */
export interface AgentPageExtras {
  /** The chat panel, for people who may run the agent now. */
  chatPanel?: Html | undefined;
  /** Usage and spend over the last 30 days. */
  usage?: Html | undefined;
  /** How its runs turned out, for those who may change it. */
  outcomes?: Html | undefined;
  /** For someone who may not run it: their pending request, or the "Request access" form. */
  accessRequest?: Html | undefined;
  /** For someone who may run it: how to reach it from Claude Code or Cursor over MCP. */
  codingTools?: Html | undefined;
}

/** An example prompt: with a chat panel, a link that fills it in (site.js does it in place). */
function example(agent: Agent, text: string, chat: boolean): Html {
  if (!chat) return html`<li><q>${text}</q></li>`;
  const href = `/agents/${encodeURIComponent(agent.name)}?prompt=${encodeURIComponent(text)}#chat`;
  return html`<li><a class="example" href="${href}" data-example="${text}"><q>${text}</q></a></li>`;
}

export function agentPage(
  agent: Agent,
  permissions: AgentPermissions,
  _viewer: { email: string },
  chat: ChatLinks,
  extras: AgentPageExtras = {},
): Html {
  const { metadata, spec } = agent.manifest;
  const chatLinks = [
    chat.slack && html`<a class="button" href="${chat.slack(agent.name)}">Open in Slack</a>`,
    chat.teams && html`<a class="button" href="${chat.teams(agent.name)}">Open in Teams</a>`,
  ].filter(Boolean);
  return html`<nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">Catalog</a> <span aria-hidden="true">/</span> <span>${agent.name}</span></nav>
<div class="agent-hero">
  ${agentIcon(agent)}
  <div>
    <h1>${agent.title}</h1>
    <p class="card-name">${agent.name} · ${agent.runtimeType} ${lifecycleBadge(agent.lifecycle)}</p>
  </div>
</div>
${stateNotice(agent)}
<div class="lede markdown">${agent.description ? renderMarkdown(agent.description) : html`<p>No description yet.</p>`}</div>
${metadata.tags.length > 0 && html`<ul class="tags" aria-label="Tags">${metadata.tags.map((t) => html`<li class="tag">${t}</li>`)}</ul>`}
${chatLinks.length > 0 && html`<p class="actions">${chatLinks}</p>`}
<div class="agent-layout">
  <div class="agent-main">
    ${extras.chatPanel}
    ${!permissions.run && requestAccess(agent, extras.accessRequest)}
    <section aria-labelledby="skills">
      <h2 id="skills">Skills</h2>
      ${
        spec.skills.length === 0
          ? html`<p class="muted">The owners have not described its skills yet.</p>`
          : spec.skills.map(
              (s) => html`<article class="card skill">
        <h3>${s.name}</h3>
        ${s.description && html`<div class="markdown">${renderMarkdown(s.description)}</div>`}
        ${s.examples.length > 0 && html`<p class="muted small">${extras.chatPanel ? "Try asking (pick one to put it in the message box):" : "Try asking:"}</p><ul class="examples">${s.examples.map((e) => example(agent, e, extras.chatPanel !== undefined))}</ul>`}
      </article>`,
            )
      }
    </section>
    ${extras.codingTools}
    ${extras.usage}
    ${extras.outcomes}
  </div>
  <aside class="agent-side">
    <section class="card" aria-labelledby="access">
      <h2 id="access">Who can run it</h2>
      <ul class="plain">${runners(agent).map((r) => html`<li>${r}</li>`)}</ul>
      <p class="small ${permissions.run ? "ok" : "muted"}">${permissions.run ? "✓ You can run this agent." : "You cannot run this agent yet."}</p>
    </section>
    <section class="card" aria-labelledby="a2a">
      <h2 id="a2a">From other agents</h2>
      <p class="small">A2A card: <a class="mono" href="${a2aCardUrl("", agent.name)}">${a2aCardUrl("", agent.name)}</a> (with an API key as a bearer token)</p>
    </section>
    <section class="card" aria-labelledby="contacts">
      <h2 id="contacts">Owner and contacts</h2>
      ${contactsList(agent)}
    </section>
    ${
      metadata.links.length > 0 &&
      html`<section class="card" aria-labelledby="links">
      <h2 id="links">Links</h2>
      <ul class="plain">${metadata.links.map((l) => html`<li><a href="${safeHref(l.url)}" rel="noopener">${l.title}</a></li>`)}</ul>
    </section>`
    }
    ${
      spec.limits &&
      html`<section class="card" aria-labelledby="limits">
      <h2 id="limits">Limits</h2>
      <dl class="facts">
        ${spec.limits.max_cost_usd_per_run !== undefined && html`<div><dt>Cost per run</dt><dd>up to ${formatUsd(spec.limits.max_cost_usd_per_run)}</dd></div>`}
        ${spec.limits.timeout_seconds !== undefined && html`<div><dt>Time per run</dt><dd>up to ${spec.limits.timeout_seconds} s</dd></div>`}
      </dl>
    </section>`
    }
  </aside>
</div>`;
}
