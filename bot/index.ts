/**
 * The chat surfaces (Slack; Teams next) and the chat core they share (bot/chat: the flow
 * from a message to a run, replies that survive a restart, buttons any feature can add
 * a kind of; see bot/chat/index.ts). Depends on sessions, directory, authz.
 */
export type {
  ChatActionClick,
  ChatActionKind,
  ChatCore,
  ChatOffer,
  ChatPort,
  ChatSurface,
  IncomingChatMessage,
} from "./chat/index.js";
export { approvalKinds } from "./chat/index.js";
export {
  SLACK_EVENTS_PATH,
  type SlackIntegration,
  type SlackServices,
  type SlackSettings,
  startSlack,
} from "./slack/index.js";
export {
  startTeams,
  TEAMS_MESSAGES_PATH,
  type TeamsIntegration,
  type TeamsSettings,
  teamsAppPackage,
} from "./teams/index.js";
