/**
 * The bot's own token for calls to the Bot Connector: OAuth 2.0 client credentials (the app
 * id and password) traded at the token endpoint (Entra's, or TEAMS_TOKEN_URL), kept until
 * shortly before it expires. The password goes only into that request's body.
 */
export class BotTokens {
  private readonly cached = new Map<string, { token: string; until: number }>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly settings: { appId: string; appPassword: string; tokenUrl: string },
  ) {}

  /** A token for `scope` (the Bot Framework's, https://api.botframework.com/.default). */
  async token(scope: string): Promise<string> {
    const cached = this.cached.get(scope);
    if (cached && cached.until > Date.now()) return cached.token;
    // One request at a time per scope: a burst of replies shares the token it brings.
    let pending = this.pending.get(scope);
    if (!pending) {
      pending = this.request(scope).finally(() => this.pending.delete(scope));
      this.pending.set(scope, pending);
    }
    return pending;
  }

  private async request(scope: string): Promise<string> {
    const response = await fetch(this.settings.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: this.settings.appId,
        client_secret: this.settings.appPassword,
        scope,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
    };
    if (!response.ok || typeof body.access_token !== "string") {
      // The endpoint's error code says what is wrong (e.g. invalid_client); never the secret.
      throw new Error(
        `the token endpoint refused the Teams bot's credentials (HTTP ${response.status}${body.error ? `, ${body.error}` : ""})`,
      );
    }
    const lifetimeMs = (Number(body.expires_in) || 3600) * 1000;
    // Renewed five minutes early, so a token never expires on its way to Teams.
    this.cached.set(scope, {
      token: body.access_token,
      until: Date.now() + Math.max(lifetimeMs - 5 * 60_000, 30_000),
    });
    return body.access_token;
  }
}
