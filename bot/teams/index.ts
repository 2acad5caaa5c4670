/** Microsoft Teams: the bot at /api/messages, its message extension and its app package. */

export { teamsAppPackage, teamsManifest } from "./app-package.js";
export { TEAMS_MESSAGES_PATH } from "./teams-app.js";
export { startTeams, type TeamsIntegration, type TeamsServices } from "./teams-bot.js";
export type { TeamsSettings } from "./teams-settings.js";
