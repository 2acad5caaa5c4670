import type { Run, Session, SessionDetail } from "../../../sessions/index.js";
import { type Html, html } from "../html.js";
import { renderMarkdown } from "../markdown.js";
import { CSRF_FIELD } from "../site-auth.js";
import { formatDuration, formatTime, formatUsd, surfaceLabel } from "./format.js";

export interface SessionListItem {
  session: Session;
  agentName: string | null;
  /** Retired: its name may be another agent's now, so it is not linked to. */
  agentRetired: boolean;
}

/** The agent's name, linked to its page while it is live. */
function agentLink(name: string | null, retired: boolean, label = name): Html {
  if (!name) return html`<span class="muted">removed</span>`;
  return retired
    ? html`${label} <span class="muted">(retired)</span>`
    : html`<a href="/agents/${name}">${label}</a>`;
}

const time = (date: Date) =>
  html`<time datetime="${date.toISOString()}">${formatTime(date)}</time>`;

const titleOf = (session: Session, agentName: string | null) =>
  session.title?.trim() || `Conversation with ${agentName ?? "a removed agent"}`;

/** "My sessions": the person's conversations on every surface, newest activity first. */
export function sessionsListPage(
  items: SessionListItem[],
  nextCursor: string | null,
  paged: boolean,
): Html {
  return html`<div class="page-intro">
  <h1>My sessions</h1>
  <p class="lede">Your conversations with agents, from the site, Slack, Teams and the API. Open one to read it turn by turn, or carry on where you left off.</p>
</div>
${
  items.length === 0
    ? html`<div class="empty card"><p><strong>No conversations yet.</strong></p><p>Open an agent in the <a href="/">catalog</a> and ask it something: the conversation appears here.</p></div>`
    : html`<div class="table-wrap"><table class="sessions-table">
  <caption class="visually-hidden">Your sessions, newest activity first</caption>
  <thead><tr><th scope="col">Conversation</th><th scope="col">Agent</th><th scope="col">Where</th><th scope="col">Last activity</th></tr></thead>
  <tbody>${items.map(
    ({ session, agentName, agentRetired }) => html`<tr>
    <td><a href="/sessions/${session.id}">${titleOf(session, agentName)}</a></td>
    <td>${agentLink(agentName, agentRetired)}</td>
    <td>${surfaceLabel(session.surface)}</td>
    <td class="nowrap">${time(session.lastActivityAt)}</td>
  </tr>`,
  )}</tbody>
</table></div>`
}
<nav class="pager" aria-label="Pages">
  ${paged && html`<a href="/sessions">← Newest</a>`}
  ${nextCursor && html`<a rel="next" href="/sessions?cursor=${encodeURIComponent(nextCursor)}">Older sessions →</a>`}
</nav>`;
}

const STATUS_LABELS: Record<Run["status"], string> = {
  queued: "Queued",
  needs_approval: "Waiting for approval",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Stopped",
};

function runFacts(run: Run): Html {
  const took =
    run.startedAt && run.finishedAt ? formatDuration(run.startedAt, run.finishedAt) : undefined;
  return html`<dl class="run-facts">
    <div><dt>Status</dt><dd><span class="status status-${run.status}">${STATUS_LABELS[run.status]}</span></dd></div>
    <div><dt>Cost</dt><dd>${formatUsd(run.costUsd)}</dd></div>
    <div><dt>Asked</dt><dd>${time(run.createdAt)}</dd></div>
    ${run.startedAt && html`<div><dt>Started</dt><dd>${time(run.startedAt)}</dd></div>`}
    ${run.finishedAt && html`<div><dt>Finished</dt><dd>${time(run.finishedAt)}${took && ` (${took})`}</dd></div>`}
  </dl>
  <details class="run-details"><summary>details</summary><dl class="run-facts">
    <div><dt>Attempt</dt><dd>${run.attempt}</dd></div>
    <div><dt>Run</dt><dd class="mono">${run.id}</dd></div>
  </dl></details>`;
}

/** The agent's side of a turn: its answer, why it failed, or that it is still going. */
function answerOf(run: Run, answer: string | undefined, agentLabel: string): Html {
  if (run.status === "succeeded") {
    return html`<div class="msg msg-agent"><p class="msg-who">${agentLabel}</p><div class="msg-text markdown">${renderMarkdown(answer ?? run.output ?? "")}</div></div>`;
  }
  if (run.status === "failed") {
    return html`<div class="msg msg-agent msg-failed"><p class="msg-who">${agentLabel}</p><p class="msg-text">The run failed: ${run.error?.message ?? "no reason was given."}</p></div>`;
  }
  if (run.status === "cancelled") {
    return html`<div class="msg msg-agent msg-stopped"><p class="msg-who">${agentLabel}</p><p class="msg-text">Stopped before it finished its answer.</p></div>`;
  }
  // site.js follows the run's stream here and reloads the page when it ends.
  return html`<div class="msg msg-agent msg-pending" data-follow-run="${run.id}" aria-live="polite"><p class="msg-who">${agentLabel}</p><p class="msg-text">Still working on it. <a href="">Reload</a> to see the answer.</p></div>`;
}

export interface SessionPageOptions {
  detail: SessionDetail;
  /** The reader is the session's person (editors of the agent may read it too). */
  own: boolean;
  /** The chat panel that continues it, when the reader may. */
  chatPanel?: Html | undefined;
  /** The form token, when the reader may end the session (its person). */
  csrfToken?: string | undefined;
}

const UNFINISHED = new Set(["queued", "needs_approval", "running"]);

/**
 * Its person ends an active session whose runs have all finished; an ended one says what
 * writing again does.
 */
function sessionEnd(session: Session, runs: Run[], csrfToken: string | undefined): Html {
  if (session.status === "closed") {
    return html`<p class="notice">This session has ended. Writing again opens it, and its agent starts afresh with the transcript.</p>`;
  }
  if (!csrfToken || runs.some((run) => UNFINISHED.has(run.status))) return html``;
  return html`<form method="post" action="/sessions/${session.id}/close" class="inline-form session-end"><input type="hidden" name="${CSRF_FIELD}" value="${csrfToken}"><button type="submit" class="secondary">End session</button> <span class="muted">Ends the agent's own session at its runtime too; the transcript stays.</span></form>`;
}

/** One session: turn by turn, each with its run's status, attempt, cost and times. */
export function sessionPage(options: SessionPageOptions): Html {
  const { detail, own } = options;
  const { session, agent, transcript, runs } = detail;
  const agentLabel = agent?.title ?? "Agent";
  const answers = new Map(
    transcript.filter((e) => e.role === "agent" && e.runId).map((e) => [e.runId, e.content]),
  );
  const notes = transcript.filter((e) => e.role === "system");
  return html`<nav class="breadcrumb" aria-label="Breadcrumb"><a href="/sessions">My sessions</a> <span aria-hidden="true">/</span> <span>${titleOf(session, agent?.name ?? null)}</span></nav>
<h1 class="session-title">${titleOf(session, agent?.name ?? null)}</h1>
<p class="muted session-meta">With ${agent ? agentLink(agent.name, agent.retired, agent.title) : "a removed agent"} · ${surfaceLabel(session.surface)} · started ${time(session.createdAt)} · last activity ${time(session.lastActivityAt)}</p>
${notes.map((n) => html`<p class="notice">${n.content}</p>`)}
${agent?.retired && html`<p class="notice">${agent.title} has been retired, so this conversation cannot be continued.</p>`}
<section aria-labelledby="transcript">
  <h2 id="transcript">Transcript</h2>
  ${
    runs.length === 0
      ? html`<p class="muted">Nothing has been said in this session yet.</p>`
      : html`<ol class="turns">${runs.map(
          (
            run,
            i,
          ) => html`<li class="turn card" id="turn-${run.id}" aria-labelledby="turn-${run.id}-label">
      <h3 class="visually-hidden" id="turn-${run.id}-label">Turn ${i + 1}</h3>
      <div class="msg msg-user"><p class="msg-who">${own ? "You" : "Its person"}</p><div class="msg-text">${run.input}</div></div>
      ${answerOf(run, answers.get(run.id), agentLabel)}
      ${runFacts(run)}
    </li>`,
        )}</ol>`
  }
</section>
${own ? sessionEnd(session, runs, options.csrfToken) : html``}
${options.chatPanel}`;
}
