/**
 * The chat surfaces: Slack now, Teams later, and the chat core they share (reading a
 * request, suggesting agents, exactly-once handling, replies that survive a restart).
 * Depends on sessions, directory, authz.
 */
export type {
  ChatActionClick,
  ChatActionKind,
  ChatPort,
  ChatSurface,
  IncomingChatMessage,
} from "./chat/index.js";
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
