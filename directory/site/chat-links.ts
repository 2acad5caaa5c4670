import type { ChatLinks } from "./pages/agent-page.js";

export interface ChatLinkSettings {
  /** SLACK_APP_ID (A…): without it there is no Slack link. */
  slackAppId?: string | undefined;
  /** SLACK_TEAM_ID (T…): sends people to that workspace rather than their default one. */
  slackTeamId?: string | undefined;
  /** TEAMS_APP_ID: the bot's app id. */
  teamsAppId?: string | undefined;
}

/**
 * "Open in Slack" and "Open in Teams" links. Both open a direct conversation with the
 * Switchboard app, where a person talks to any agent: Slack's documented app_redirect
 * (https://api.slack.com/docs/deep-linking), and Teams' chat deep link with the bot as the
 * other participant (`28:` marks a bot's id). Neither carries the agent, so it is the same
 * link on every page; an unconfigured one is absent, never broken.
 */
export function chatLinks(settings: ChatLinkSettings): ChatLinks {
  const { slackAppId, slackTeamId, teamsAppId } = settings;
  const slack = slackAppId
    ? `https://slack.com/app_redirect?${new URLSearchParams({
        app: slackAppId,
        ...(slackTeamId ? { team: slackTeamId } : {}),
      })}`
    : undefined;
  const teams = teamsAppId
    ? `https://teams.microsoft.com/l/chat/0/0?users=28:${encodeURIComponent(teamsAppId)}`
    : undefined;
  return {
    slack: slack ? () => slack : undefined,
    teams: teams ? () => teams : undefined,
  };
}
