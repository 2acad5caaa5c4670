import { createHmac, randomUUID } from "node:crypto";

/**
 * Sends what Slack sends: events, slash commands and interactions, signed with the app's
 * signing secret (v0 HMAC-SHA256 over `v0:timestamp:body`), to a running Switchboard.
 */
export class SlackEventSender {
  constructor(
    private readonly eventsUrl: string,
    private readonly signingSecret: string,
    readonly teamId: string,
    readonly botUserId: string,
    /** Where `respond()` posts: the Slack double's `response_url` endpoint. */
    readonly responseUrl: string,
  ) {}

  sign(body: string, timestamp: number): string {
    const digest = createHmac("sha256", this.signingSecret)
      .update(`v0:${timestamp}:${body}`)
      .digest("hex");
    return `v0=${digest}`;
  }

  async post(
    body: string,
    contentType: string,
    options: { retryNum?: number; timestamp?: number; signature?: string } = {},
  ): Promise<Response> {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    return fetch(this.eventsUrl, {
      method: "POST",
      headers: {
        "content-type": contentType,
        "x-slack-request-timestamp": String(timestamp),
        "x-slack-signature": options.signature ?? this.sign(body, timestamp),
        ...(options.retryNum !== undefined
          ? {
              "x-slack-retry-num": String(options.retryNum),
              "x-slack-retry-reason": "http_timeout",
            }
          : {}),
      },
      body,
    });
  }

  /** An Events API callback; resolves to the HTTP response and the event id used. */
  async event(
    event: Record<string, unknown>,
    options: { eventId?: string; retryNum?: number; timestamp?: number; signature?: string } = {},
  ): Promise<{ response: Response; eventId: string }> {
    const eventId =
      options.eventId ?? `Ev${randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
    const body = this.eventBody(event, eventId);
    return { response: await this.post(body, "application/json", options), eventId };
  }

  /** The JSON body Slack posts for an event (unsigned; `post` signs it). */
  eventBody(event: Record<string, unknown>, eventId: string): string {
    return JSON.stringify({
      token: "legacy-verification-token",
      team_id: this.teamId,
      api_app_id: "AAGENTS",
      type: "event_callback",
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: this.teamId, user_id: this.botUserId, is_bot: true }],
      event: { team: this.teamId, event_ts: event.ts, ...event },
    });
  }

  /** The body of a top-level channel mention (see `mention`). */
  mentionBody(user: string, text: string, ts: string, eventId: string): string {
    return this.eventBody(
      { type: "app_mention", user, text: `<@${this.botUserId}> ${text}`, ts, channel: "C0GENERAL" },
      eventId,
    );
  }

  /** A mention at the top of a channel (ts is the new thread's ts). */
  mention(user: string, text: string, ts: string, extra: Record<string, unknown> = {}) {
    return this.event({
      type: "app_mention",
      user,
      text: `<@${this.botUserId}> ${text}`,
      ts,
      channel: "C0GENERAL",
      ...extra,
    });
  }

  /** A plain message event (channel_type channel unless given). */
  message(user: string, text: string, ts: string, extra: Record<string, unknown> = {}) {
    return this.event({
      type: "message",
      channel_type: "channel",
      user,
      text,
      ts,
      channel: "C0GENERAL",
      ...extra,
    });
  }

  /** A slash command, form-encoded as Slack sends it. */
  command(user: string, command: string, text: string, extra: Record<string, string> = {}) {
    const body = new URLSearchParams({
      token: "legacy-verification-token",
      team_id: this.teamId,
      team_domain: "example",
      channel_id: "C0GENERAL",
      channel_name: "general",
      user_id: user,
      user_name: user.toLowerCase(),
      command,
      text,
      api_app_id: "AAGENTS",
      response_url: this.responseUrl,
      trigger_id: `trigger-${randomUUID()}`,
      ...extra,
    }).toString();
    return this.post(body, "application/x-www-form-urlencoded");
  }

  /** An interaction (block_actions, view_submission …): `payload=` form field. */
  interaction(payload: Record<string, unknown>) {
    const body = new URLSearchParams({
      payload: JSON.stringify({ response_url: this.responseUrl, ...payload }),
    }).toString();
    return this.post(body, "application/x-www-form-urlencoded");
  }
}
