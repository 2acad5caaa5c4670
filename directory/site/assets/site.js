// Search as you type: the catalog's GET form keeps working without this script; with it,
// typing fetches the results fragment (debounced) and swaps it in, keeping the URL in step.
(() => {
  const form = document.querySelector("form[data-live-search]");
  const body = () => document.getElementById("catalog-body");
  if (!form || !body() || !window.fetch) return;
  const input = form.querySelector('input[type="search"]');
  let timer;
  let inFlight;
  const search = async () => {
    const params = new URLSearchParams(new FormData(form));
    for (const [key, value] of [...params]) if (!value) params.delete(key);
    const url = params.toString() ? `/?${params}` : "/";
    inFlight?.abort();
    inFlight = new AbortController();
    try {
      const response = await fetch(`${url}${url.includes("?") ? "&" : "?"}fragment=results`, {
        signal: inFlight.signal,
        headers: { accept: "text/html" },
      });
      if (!response.ok || response.redirected) return;
      body().outerHTML = await response.text();
      // A live region that stays put, so screen readers hear how many agents now match.
      const status = document.getElementById("search-status");
      const count = document.getElementById("results-heading");
      if (status && count) status.textContent = count.textContent;
      history.replaceState(null, "", url);
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    search();
  });
})();

// The chat panel. Without this script it is a plain form that POSTs and lands on the session
// page. With it: the run starts through the API (session cookie, CSRF header), the answer
// streams in from the run's event stream (EventSource sends the cookie; GET needs no CSRF
// token), Stop cancels, and the next message continues the same session.
(() => {
  const panel = document.querySelector("[data-chat]");
  if (!panel || !window.fetch || !window.EventSource) return;
  const $ = (selector) => panel.querySelector(selector);
  const form = $("[data-chat-form]");
  const input = form.querySelector("textarea");
  const log = $("[data-chat-log]");
  const status = $("[data-chat-status]");
  const errorBox = $("[data-chat-error]");
  const sendButton = $("[data-chat-send]");
  const stopButton = $("[data-chat-stop]");
  const sessionField = $("[data-chat-session]");
  const sessionLink = $("[data-chat-link]");
  const agent = panel.dataset.agent;
  const agentTitle = panel.dataset.agentTitle || agent;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const startedInSession = Boolean(panel.dataset.session);
  let session = panel.dataset.session || "";
  let current;
  $("#chat-hint").hidden = false;

  // The browser's copy of core/display-text.ts formatUsd: the same digits as the server's pages.
  const usd = (amount) =>
    !(amount > 0)
      ? "$0.00"
      : amount >= 0.01
        ? `$${amount.toFixed(2)}`
        : amount < 0.0001
          ? "<$0.0001"
          : `$${amount.toFixed(4).replace(/0+$/, "")}`;
  const parse = (event) => {
    try {
      return JSON.parse(event.data);
    } catch {
      return {};
    }
  };

  function setSession(id) {
    session = id;
    sessionField.value = id;
    panel.dataset.session = id;
    if (!sessionLink) return;
    sessionLink.hidden = !id || startedInSession;
    sessionLink.querySelector("a").href = `/sessions/${id}`;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function setBusy(busy) {
    sendButton.disabled = busy;
    stopButton.hidden = !busy;
    stopButton.disabled = false;
    panel.classList.toggle("is-busy", busy);
  }

  /** A message in the log; answers the element its text goes in. */
  function message(role, text) {
    const item = document.createElement("li");
    item.className = `msg msg-${role}`;
    const who = document.createElement("p");
    who.className = "msg-who";
    who.textContent = role === "user" ? "You" : agentTitle;
    const body = document.createElement("div");
    body.className = "msg-text";
    body.textContent = text;
    item.append(who, body);
    log.append(item);
    item.scrollIntoView({ block: "nearest" });
    return body;
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        accept: "application/json",
        ...(body ? { "content-type": "application/json" } : {}),
        ...(method === "GET" ? {} : { "x-csrf-token": csrf }),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(data.error?.message || `Switchboard answered ${response.status}; try again.`);
    }
    return data;
  }

  async function send(text) {
    showError("");
    message("user", text);
    const answer = message("agent", "");
    const box = answer.parentElement;
    box.classList.add("is-working");
    box.setAttribute("aria-busy", "true");
    status.textContent = "Working…";
    setBusy(true);
    let run;
    try {
      const body = session ? { input: text, session_id: session } : { input: text };
      run = await api("POST", `/api/v1/agents/${encodeURIComponent(agent)}/runs`, body);
    } catch (error) {
      box.remove();
      setBusy(false);
      status.textContent = "";
      showError(`The agent could not start: ${error.message}`);
      return;
    }
    setSession(run.session_id);
    follow(run.id, answer);
  }

  function follow(runId, answer) {
    const source = new EventSource(`/api/v1/runs/${runId}/events`);
    current = { runId, source };
    let text = "";
    const show = () => {
      answer.textContent = text;
      answer.parentElement.scrollIntoView({ block: "nearest" });
    };
    source.addEventListener("message.delta", (event) => {
      text += parse(event).text ?? "";
      status.textContent = "Answering…";
      show();
    });
    source.addEventListener("message", (event) => {
      text = parse(event).text ?? text;
      show();
    });
    source.addEventListener("runtime.status", (event) => {
      const data = parse(event);
      if (data.message) status.textContent = data.message;
    });
    source.addEventListener("tool.use", (event) => {
      status.textContent = `Using ${parse(event).name ?? "a tool"}…`;
    });
    source.addEventListener("attempt.failed", (event) => {
      const data = parse(event);
      status.textContent = `Try ${data.attempt} failed (${data.message}); trying again…`;
    });
    source.addEventListener("run.status", (event) => {
      const data = parse(event);
      if (data.status === "queued") status.textContent = "Waiting to start…";
      // Waiting for a place (the person or the agent has as many runs going as allowed).
      else if (data.status === "waiting")
        status.textContent = data.message || "Waiting for a place to run…";
      else if (data.status === "needs_approval")
        status.textContent = "Waiting for a budget approval…";
      else if (data.status === "running" && !text) status.textContent = "Working…";
      else if (["succeeded", "failed", "cancelled"].includes(data.status)) {
        source.close();
        finish(runId, data, answer, text);
      }
    });
    source.addEventListener("error", (event) => {
      // The server's own "error" event carries data; either way EventSource reconnects
      // with Last-Event-ID and the answer carries on without gaps or repeats.
      if (source.readyState === EventSource.CLOSED) {
        current = undefined;
        setBusy(false);
        answer.parentElement.classList.remove("is-working");
        answer.parentElement.removeAttribute("aria-busy");
        status.textContent = "";
        showError("Lost the connection to the run. Reload the page to see how it ended.");
      } else {
        status.textContent = event.data ? "The stream broke off; reconnecting…" : "Reconnecting…";
      }
    });
  }

  // The answer streamed in as plain text; once it is complete the server's Markdown renderer
  // (the one the session page uses) formats it. If that fails the plain text stays.
  async function showFormatted(runId, answer) {
    try {
      const response = await fetch(`/runs/${encodeURIComponent(runId)}/answer`, {
        credentials: "same-origin",
        headers: { accept: "text/html" },
      });
      if (!response.ok || response.redirected) return;
      const formatted = new DOMParser().parseFromString(await response.text(), "text/html");
      if (!formatted.body.textContent.trim()) return;
      answer.replaceChildren(...formatted.body.childNodes);
      answer.classList.add("markdown");
    } catch {
      // The plain text is still the answer.
    }
  }

  async function finish(runId, data, answer, text) {
    current = undefined;
    setBusy(false);
    const box = answer.parentElement;
    box.classList.remove("is-working");
    box.removeAttribute("aria-busy");
    let outcome = "Finished";
    if (data.status === "failed") {
      outcome = "Failed";
      box.classList.add("msg-failed");
      answer.textContent = `The run failed: ${data.error?.message ?? "no reason was given."}`;
    } else if (data.status === "cancelled") {
      outcome = "Stopped";
      box.classList.add("msg-stopped");
      answer.textContent = text ? `${text} … (stopped)` : "Stopped before it answered.";
    }
    status.textContent = `${outcome}.`;
    if (data.status === "succeeded") await showFormatted(runId, answer);
    try {
      const run = await api("GET", `/api/v1/runs/${runId}`);
      const took =
        run.started_at && run.finished_at
          ? ` in ${((Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000).toFixed(1)} s`
          : "";
      status.textContent = `${outcome}${took} · cost ${usd(run.cost_usd)}`;
    } catch {
      // The figures are a courtesy; the answer is already shown.
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (current) return;
    const text = input.value.trim();
    if (!text) {
      showError("Write a message first.");
      input.focus();
      return;
    }
    input.value = "";
    send(text);
  });

  // Enter sends, Shift+Enter is a new line (not while an input method is composing).
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  stopButton.addEventListener("click", async () => {
    if (!current) return;
    stopButton.disabled = true;
    status.textContent = "Stopping…";
    try {
      await api("POST", `/api/v1/runs/${current.runId}/cancel`);
    } catch (error) {
      // Already finished in the meantime: the closing event says how.
      if (current) showError(`Could not stop it: ${error.message}`);
      stopButton.disabled = false;
    }
  });

  // On the agent page "New conversation" clears the panel; on a session page it is a link.
  const fresh = $("[data-chat-new]");
  if (!startedInSession) {
    fresh.addEventListener("click", (event) => {
      event.preventDefault();
      current?.source.close();
      current = undefined;
      setBusy(false);
      log.replaceChildren();
      setSession("");
      showError("");
      status.textContent = "New conversation: your next message starts it.";
      input.focus();
    });
  }

  // Example prompts fill the box (their links do the same through the server without JS).
  for (const link of document.querySelectorAll("[data-example]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      input.value = link.dataset.example;
      input.focus();
    });
  }
})();

// A session page opened while a turn is still running (started in Slack, or in another tab):
// its answer streams in, and the page reloads once the run ends, to show how it ended.
(() => {
  if (!window.EventSource) return;
  for (const box of document.querySelectorAll("[data-follow-run]")) {
    const text = box.querySelector(".msg-text");
    const source = new EventSource(`/api/v1/runs/${box.dataset.followRun}/events`);
    let answer = "";
    source.addEventListener("message.delta", (event) => {
      answer += JSON.parse(event.data).text ?? "";
      text.textContent = answer;
    });
    source.addEventListener("run.status", (event) => {
      if (["succeeded", "failed", "cancelled"].includes(JSON.parse(event.data).status)) {
        source.close();
        location.reload();
      }
    });
  }
})();

// Times in the reader's own clock: the server writes UTC (the fallback without this script)
// in <time datetime>; here each becomes local time, with the UTC text kept as its tooltip.
(() => {
  const local = new Intl.DateTimeFormat(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  });
  for (const time of document.querySelectorAll("time[datetime]")) {
    const date = new Date(time.getAttribute("datetime"));
    // A date without a time ("2026-11-24") has no clock to convert.
    if (Number.isNaN(date.getTime()) || !time.getAttribute("datetime").includes("T")) continue;
    time.title = time.textContent;
    time.textContent = local.format(date);
  }
})();
