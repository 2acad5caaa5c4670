/**
 * The chat core Slack and Teams share: the flow from a message to a run (ChatFlow), the
 * loop that follows a run and hands its events to the surface (ChatReplyLoop, which also
 * edits a finished reply's cost when proxy spend booked to the run lands late), the buttons
 * and their clicks (ChatActionRegistry), and the records that make chat handling
 * exactly-once (deliveries), restartable (replies) and tamper-proof (buttons).
 *
 * A surface keeps only what is its own: its transport, its renderer (a ChatSurface: it
 * turns the Markdown it is handed into its format), who its users are (an email, linked as
 * an identity) and how a mention is written. It hands each message over as an
 * IncomingChatMessage to its ChatFlow, and each button click to the registry.
 *
 * A surface plugs in (as bot/slack does in slack-app.ts):
 * 1. implement ChatSurface for its renderer, with a plain-data reply target;
 * 2. `const chat = openChatCore(surface, services)` at start, `chat.resume()` once it can
 *    post (replies a stopped process left unfinished), `chat.stop()` when stopping;
 * 3. hand each message to `chat.flow.handle(IncomingChatMessage)` (the mention stripped,
 *    `from.person()` resolving the sender by email), and each click carrying a ChatActions
 *    id to `chat.clicks.click(IncomingChatClick)`;
 * 4. register its own `run_agent_form` kind (`chat.clicks.add`): the "Run" of a suggestion
 *    without a request and of an agent card (agentCards) asks the person for the request,
 *    which is the surface's own (Slack: a modal; Teams: a task module), then runs it with
 *    `chat.flow.run`; its own features (Slack's `/agents`, App Home; Teams' message
 *    extension) list agents with agentCards and check access with `whyNotRun`.
 *
 * Adding a kind of button (e.g. governance's `approve_budget` / `deny_budget`), once for
 * every surface:
 * 1. write a ChatActionKind: `kind`, `singleUse`, `authorize(principal, payload)` (the
 *    clicking person's right to do it, checked on every click, a refusal in words) and
 *    `handle(click, payload)` (what the click does; `click.principal` is who clicked,
 *    `click.chat` runs, says or offers more buttons in the conversation it came from);
 * 2. hand it to the surfaces at start-up: `startSlack(…, { actionKinds: [kind] })`, and the
 *    same list to Teams; the surface's registry dispatches its clicks;
 * 3. post its buttons with `flow.offer(target, words, [{ label, kind, payload }])`, or in
 *    the conversation a run was asked from with `core.offerForRun(runId, words, buttons)`
 *    (on each surface's ChatCore; the one the run came from posts): each button becomes an
 *    opaque ChatActions id, rendered by the surface's generic `buttons`.
 * No surface code changes: clicks on any surface come to `handle` the same way.
 *
 * Two more things a kind may use (access-request-kinds.ts uses both):
 * - people's words shown with Switchboard's (a reason, who asked) go as `quotes`
 *   (ChatQuote) to `say`, `offer` and `settle`, never into the Markdown words: each surface
 *   shows them as typed (Slack: plain_text sections; Teams: escaped);
 * - a button that takes words with its click has a `prompt`: Teams shows a field on the card
 *   and the click brings `click.input`; Slack has `click.ask(prompt)` (a modal) whose
 *   submission comes back as the same click, checked again, with `input` set.
 * Messages with buttons remember where they landed, so `core.replaceOffers` can show a
 * decision made elsewhere on every copy.
 */

export {
  accessRequestButtons,
  accessRequestKinds,
  replaceAccessRequestMessages,
  requestAccessButton,
} from "./access-request-kinds.js";
export {
  type ChatActionClick,
  type ChatActionKind,
  ChatActionRegistry,
  type ChatOffer,
  type ChatPort,
  type ChatRefusal,
  type ChatRunRequest,
  type IncomingChatClick,
} from "./action-registry.js";
export { type AgentCard, agentCards } from "./agent-cards.js";
export { suggestAgents } from "./agent-suggestions.js";
export { approvalButtons, approvalKinds } from "./approval-kinds.js";
export { ChatActions } from "./chat-actions.js";
export { type ChatCore, type ChatCoreServices, openChatCore } from "./chat-core.js";
export { ChatFlow, type ChatFlowDeps } from "./chat-flow.js";
export type {
  ChatConversation,
  ChatPerson,
  IncomingChatMessage,
  SurfaceName,
} from "./chat-message.js";
export { ChatReplies, type PendingReply } from "./chat-replies.js";
export type {
  AgentSuggestions,
  ChatButton,
  ChatPrompt,
  ChatQuote,
  ChatSurface,
  PostedMessage,
  RunOutcome,
  RunReply,
  RunReplyTarget,
} from "./chat-surface.js";
export { ChatDeliveries } from "./deliveries.js";
export { type NamedAgent, namedAgent } from "./named-agent.js";
export { QuietGate } from "./quiet-gate.js";
export { ChatReplyLoop } from "./reply-loop.js";
export { type ChatRequest, parseRequest } from "./request-text.js";
export {
  agentPageUrl,
  mayRunAgent,
  type RunAccessDeps,
  type RunRefusal,
  requestAccessOffer,
  whyNotRun,
} from "./run-access.js";
export { runAgentKind } from "./run-agent-kind.js";
export { SLUG_PATTERN } from "./slug.js";
export { costText, refusalText, requestAccessText } from "./wording.js";
export { WorkLimiter } from "./work-limiter.js";
