/**
 * The chat core Slack and Teams share: reading a request (and which agent a person's words
 * may pick), suggesting agents, wording refusals, and the database records that make chat
 * handling exactly-once (deliveries), restartable (replies) and tamper-proof (buttons).
 */
export { suggestAgents } from "./agent-suggestions.js";
export { ChatActions } from "./chat-actions.js";
export { ChatReplies, type PendingReply } from "./chat-replies.js";
export { ChatDeliveries } from "./deliveries.js";
export { type NamedAgent, namedAgent } from "./named-agent.js";
export { type ChatRequest, parseRequest, plainText } from "./request-text.js";
export { costText, refusalText } from "./wording.js";
export { WorkLimiter } from "./work-limiter.js";
