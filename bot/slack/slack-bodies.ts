/**
 * The shapes of what Slack posts, checked before Bolt reads a body. Bolt trusts a signed
 * body to be one of Slack's: given `null`, a number, or an event whose `channel` is `null`,
 * it throws, and a throw in the request stream's listener ended the process. A signature
 * proves who signed a body, not that it is well formed (a leaked signing secret, a bug at
 * Slack), so anything else is refused with a 400 that says what is wrong.
 *
 * Only what Bolt and the handlers read is checked: the rest of a body is Slack's business,
 * except text no field can store (a NUL, half a surrogate pair) or hostile nesting anywhere
 * in it, which would fail in the database or overflow a stack after the 200 was sent.
 */

import { describeUnstorableInput, findUnstorableInput } from "../../core/index.js";

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Fields of an event Bolt reads with `in` or as objects, and what each may be. */
const EVENT_FIELDS: Record<string, "text or object" | "object"> = {
  user: "text or object",
  channel: "text or object",
  item: "object",
  subteam: "object",
  message: "object",
  previous_message: "object",
  assistant_thread: "object",
};

function fieldProblem(
  where: string,
  body: Fields,
  field: string,
  kind: "text or object" | "object",
): string | undefined {
  if (!(field in body) || body[field] === undefined) return undefined;
  const value = body[field];
  if (isObject(value) || (kind === "text or object" && typeof value === "string")) return undefined;
  return `${where}'s ${field} is not ${kind === "object" ? "an object" : "text or an object"}`;
}

/**
 * What is wrong with a parsed Events API body (JSON), or undefined when Bolt may have it.
 * Slack posts three types there: `url_verification`, `event_callback` and
 * `app_rate_limited`; other types are let through for the intake to acknowledge.
 */
export function eventBodyProblem(body: unknown): string | undefined {
  if (!isObject(body)) return "the body is not a JSON object";
  const unstorable = findUnstorableInput(body);
  if (unstorable) return unstorableProblem("the body", unstorable);
  if (typeof body.type !== "string") return "the body has no type";
  if (body.type === "url_verification") {
    return typeof body.challenge === "string" ? undefined : "the URL check has no challenge";
  }
  if (body.type !== "event_callback") return undefined;
  const event = body.event;
  if (!isObject(event) || typeof event.type !== "string") return "the event callback has no event";
  if (body.authorizations !== undefined) {
    const list = body.authorizations;
    if (!Array.isArray(list) || !list.every(isObject)) return "the authorizations are not a list";
  }
  for (const [field, kind] of Object.entries(EVENT_FIELDS)) {
    const problem = fieldProblem("the event", event, field, kind);
    if (problem) return problem;
  }
  return undefined;
}

/** What is wrong with an interaction's `payload` (JSON), or undefined when Bolt may have it. */
function interactionProblem(text: string): string | undefined {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return "the payload is not JSON";
  }
  if (!isObject(payload) || typeof payload.type !== "string") {
    return "the payload is not a Slack interaction";
  }
  const unstorable = findUnstorableInput(payload);
  if (unstorable) return unstorableProblem("the payload", unstorable);
  if (!isObject(payload.user) || typeof payload.user.id !== "string" || !payload.user.id) {
    return "the interaction names no user";
  }
  const responseUrl = responseUrlProblem(payload.response_url);
  if (responseUrl) return responseUrl;
  for (const field of ["team", "enterprise"]) {
    if (payload[field] !== null) {
      const problem = fieldProblem("the interaction", payload, field, "object");
      if (problem) return problem;
    }
  }
  const channel = fieldProblem("the interaction", payload, "channel", "object");
  if (channel) return channel;
  if (payload.type === "view_submission" || payload.type === "view_closed") {
    if (!isObject(payload.view)) return "the view submission has no view";
    // A submission always carries its inputs' state; the form handlers read it.
    const state = payload.view.state;
    if (payload.type === "view_submission" && !(isObject(state) && isObject(state.values))) {
      return "the view submission has no state.values";
    }
  }
  if (payload.actions !== undefined) {
    if (!Array.isArray(payload.actions) || !payload.actions.every(isObject)) {
      return "the actions are not a list";
    }
  }
  return undefined;
}

/**
 * What is wrong with a form Slack posts (a slash command, an interaction's `payload`, an
 * SSL check), or undefined when Bolt may have it. A field given twice would reach the
 * handlers as a list where they expect text.
 */
export function formBodyProblem(form: URLSearchParams): string | undefined {
  const keys = [...form.keys()];
  if (new Set(keys).size !== keys.length) return "the form repeats a field";
  const unstorable = findUnstorableInput(Object.fromEntries(form));
  if (unstorable) return unstorableProblem("the form", unstorable);
  const payload = form.get("payload");
  if (payload !== null) return interactionProblem(payload);
  if (form.has("ssl_check")) return undefined;
  if (form.has("command")) return commandProblem(form);
  return "the form is neither a slash command nor an interaction";
}

/** Where `respond()` posts: a URL Bolt can fetch, or it throws after the 200. */
function responseUrlProblem(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && URL.canParse(value) && /^https?:/.test(value)) return undefined;
  return "the response_url is not an http(s) address";
}

/** A slash command names who typed it (the handlers look the person up by it). */
function commandProblem(form: URLSearchParams): string | undefined {
  if (!form.get("user_id")) return "the command names no user_id";
  return responseUrlProblem(form.get("response_url") ?? undefined);
}

/** "the body's event.text contains a NUL character…", without the sentence's full stop. */
function unstorableProblem(where: string, found: ReturnType<typeof findUnstorableInput> & {}) {
  return describeUnstorableInput(where, found).replace(/\.$/, "");
}
