import { type Html, html } from "../html.js";
import { CSRF_FIELD } from "../site-auth.js";

export interface ChatPanelOptions {
  agent: { name: string; title: string };
  csrfToken: string;
  /** Continue this session (the session page); unset: the first message starts a new one. */
  sessionId?: string | undefined;
  /** Text to start with, from an example prompt's link. */
  prompt?: string | undefined;
}

/**
 * The chat panel. Without JavaScript it is a plain form: the POST starts the run and
 * redirects to the session page. site.js takes it over: it starts runs through the API,
 * streams the answer from the run's event stream into the log, and keeps the session.
 */
export function chatPanel(options: ChatPanelOptions): Html {
  const { agent, sessionId } = options;
  return html`<section class="card chat" id="chat" aria-labelledby="chat-heading" data-chat data-agent="${agent.name}" data-agent-title="${agent.title}" data-session="${sessionId ?? ""}">
  <div class="chat-head">
    <h2 id="chat-heading">${sessionId ? "Continue the conversation" : html`Chat with ${agent.title}`}</h2>
    <a class="button button-quiet" href="/agents/${agent.name}#chat" data-chat-new>New conversation</a>
  </div>
  <p class="muted small chat-intro">Each conversation is kept in <a href="/sessions">My sessions</a>${sessionId ? "" : " and the agent remembers it from one message to the next"}.<span data-chat-link hidden> This one: <a href="/sessions/${sessionId ?? ""}">open it on its own page</a>.</span></p>
  <ol class="chat-log" data-chat-log role="log" aria-live="polite" aria-label="Conversation with ${agent.title}"></ol>
  <p class="chat-status" data-chat-status role="status"></p>
  <p class="notice notice-error chat-error" data-chat-error role="alert" hidden></p>
  <form class="chat-form" method="post" action="/agents/${agent.name}/chat" data-chat-form>
    <input type="hidden" name="${CSRF_FIELD}" value="${options.csrfToken}">
    <input type="hidden" name="session_id" value="${sessionId ?? ""}" data-chat-session>
    <label for="chat-input">Message to ${agent.title}</label>
    <textarea id="chat-input" name="input" rows="3" required maxlength="100000" aria-describedby="chat-hint" placeholder="Ask ${agent.title} something">${options.prompt ?? ""}</textarea>
    <div class="chat-actions">
      <p id="chat-hint" class="small muted chat-hint" hidden>Enter sends; Shift+Enter starts a new line.</p>
      <button type="button" class="button-stop" data-chat-stop hidden>Stop</button>
      <button type="submit" data-chat-send>Send</button>
    </div>
  </form>
</section>`;
}
