/** Slack: `@agents` mentions, thread sessions, the `/agents` command and App Home. */

export type { SlackClick } from "./chat-action-kinds.js";
export {
  SLACK_EVENTS_PATH,
  type SlackIntegration,
  type SlackServices,
  type SlackSettings,
  startSlack,
} from "./slack-app.js";
