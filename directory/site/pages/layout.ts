import type { UserPrincipal } from "../../../authz/index.js";
import { type Html, html } from "../html.js";
import { CSRF_FIELD } from "../site-auth.js";

/** What every page's frame needs to know about the visitor. */
export interface PageChrome {
  principal?: UserPrincipal | undefined;
  csrfToken: string;
  isAdmin: boolean;
  /** Whether this Switchboard runs agents, and so has "My sessions". */
  sessions?: boolean | undefined;
  /** Whether it has a secret store, and so "Secrets". */
  secrets?: boolean | undefined;
  /** Whether it holds budgets, and so "Budgets" (and, with runs, "Approvals"). */
  budgets?: boolean | undefined;
  /** Whether it shows spend: everyone signed in sees at least their own. */
  spend?: boolean | undefined;
  /**
   * Whether it takes access requests, and so "Requests": shown to everyone signed in (an
   * owner finds what waits for them; anyone else an empty inbox), since asking whether
   * someone owns any agent on every page would cost a check per agent.
   */
  requests?: boolean | undefined;
}

export type Section =
  | "catalog"
  | "sessions"
  | "secrets"
  | "budgets"
  | "approvals"
  | "requests"
  | "spend"
  | "admin"
  | "other";

function navLink(href: string, label: string, active: boolean): Html {
  return html`<a href="${href}"${active ? html` aria-current="page"` : ""}>${label}</a>`;
}

/** The page shell: skip link, header with navigation and the signed-in person, main. */
export function layout(
  chrome: PageChrome,
  page: { title: string; section: Section; body: Html },
): string {
  const { principal } = chrome;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · Switchboard</title>
<meta name="csrf-token" content="${chrome.csrfToken}">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/site.css">
<script src="/assets/site.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <div class="container header-row">
    <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">◆</span> Switchboard</a>
    ${
      principal &&
      html`<nav aria-label="Main">
      ${navLink("/", "Catalog", page.section === "catalog")}
      ${chrome.sessions && navLink("/sessions", "My sessions", page.section === "sessions")}
      ${chrome.secrets && navLink("/secrets", "Secrets", page.section === "secrets")}
      ${chrome.budgets && navLink("/budgets", "Budgets", page.section === "budgets")}
      ${chrome.budgets && chrome.sessions && navLink("/approvals", "Approvals", page.section === "approvals")}
      ${chrome.requests && navLink("/requests", "Requests", page.section === "requests")}
      ${chrome.spend && navLink("/spend", "Spend", page.section === "spend")}
      ${chrome.isAdmin && navLink("/admin", "Admin", page.section === "admin")}
    </nav>
    <div class="account">
      <span class="account-email" title="Signed in">${principal.email}</span>
      <form method="post" action="/sign-out">
        <input type="hidden" name="${CSRF_FIELD}" value="${chrome.csrfToken}">
        <button type="submit" class="button-quiet">Sign out</button>
      </form>
    </div>`
    }
  </div>
</header>
<main id="main" class="container" tabindex="-1">
${page.body}
</main>
<footer class="site-footer"><div class="container">Switchboard — one door to every agent.</div></footer>
</body>
</html>`.text;
}

/** "user:*" → "Everyone", "team:support" → "Team support", "user:ada@x" → "ada@x". */
export function subjectLabel(subject: string): string {
  if (subject === "user:*") return "Everyone";
  if (subject.startsWith("team:")) return `Team ${subject.slice("team:".length)}`;
  if (subject.startsWith("user:")) return subject.slice("user:".length);
  return subject;
}
