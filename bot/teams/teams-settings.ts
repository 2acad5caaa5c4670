/** What the Teams bot is configured with (app/teams.ts reads it from the configuration). */
export interface TeamsSettings {
  /** The bot's Microsoft App ID: the audience of the Bot Connector's tokens. */
  appId: string;
  /** The app's client secret in Entra ID. Never logged. */
  appPassword: string;
  tenantId: string;
  /** The Bot Framework's OpenID metadata: names the issuer and the keys that sign requests. */
  openIdMetadataUrl: string;
  /** Where the bot trades its credentials for a token (OAuth client credentials). */
  tokenUrl: string;
}
