/** Microsoft Teams: the bot at /api/messages, its message extension and its app package. */
export type { TeamsSettings } from "./teams-settings.js";
