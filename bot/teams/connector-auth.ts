import type { IToken } from "@microsoft/teams.api";
import { JwtValidator } from "@microsoft/teams.apps/dist/middleware/auth/jwt-validator.js";
import type { ILogger } from "@microsoft/teams.common";

/** How long the OpenID metadata is kept; the Bot Framework asks for at least daily refresh. */
const METADATA_MS = 24 * 60 * 60_000;

interface OpenIdMetadata {
  issuer: string;
  jwks_uri: string;
}

/** Tokens verified lately, by their exact text (the Bot Connector reuses one for an hour). */
const VERIFIED_MAX = 1000;
const VERIFIED_MS = 10 * 60_000;

interface Verified {
  serviceUrl: string;
  appId: string;
  sub: string;
  /** Epoch ms: the token's own expiry, or when the cache forgets it, whichever is first. */
  until: number;
}

const sameUrl = (a: string, b: string) =>
  a.replace(/\/$/, "").toLowerCase() === b.replace(/\/$/, "").toLowerCase();

/** Why a request to /api/messages was not believed (answered 401; nothing runs). */
export class UnauthenticatedActivity extends Error {}

/**
 * Checks that a request to /api/messages comes from the Bot Connector, as the Bot Framework
 * requires: a bearer JWT signed by one of the keys the OpenID metadata names (RS256), issued
 * by the metadata's issuer, for this bot (audience: the app id), not expired, and made for
 * the activity's serviceUrl (its `serviceurl` claim), so a token captured for one service
 * cannot send the bot's replies (and its token) to another. The signature, audience and
 * expiry checks are the Teams SDK's (its JwtValidator, which fetches and caches the keys);
 * the metadata is read here, so the keys are the ones it names.
 */
export class ConnectorAuthenticator {
  private validator: { jwt: JwtValidator; until: number } | undefined;
  /**
   * The same token text verified before: its signature cannot have changed, so only what
   * depends on the request (its expiry now, the activity's serviceUrl) is checked again.
   * Spares an RSA verification per activity; forgotten after 10 minutes (a key the
   * metadata drops stops working within that) or at the token's expiry.
   */
  private readonly verified = new Map<string, Verified>();

  constructor(
    private readonly settings: { appId: string; tenantId: string; openIdMetadataUrl: string },
    private readonly logger: ILogger,
  ) {}

  async authenticate(
    authorization: string | undefined,
    activity: { serviceUrl?: unknown },
  ): Promise<IToken> {
    const token = /^Bearer (\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token) throw new UnauthenticatedActivity("no bearer token");
    if (typeof activity.serviceUrl !== "string" || !activity.serviceUrl) {
      throw new UnauthenticatedActivity("the activity names no serviceUrl");
    }
    const known = this.verified.get(token);
    if (known && known.until > Date.now() && sameUrl(known.serviceUrl, activity.serviceUrl)) {
      return this.tokenFor(known, activity.serviceUrl);
    }
    const jwt = await this.jwt();
    const payload = await jwt.validateAccessToken(token, {
      validateServiceUrl: { expectedServiceUrl: activity.serviceUrl },
    });
    if (!payload) throw new UnauthenticatedActivity("the token is not the Bot Connector's");
    const verified: Verified = {
      serviceUrl: activity.serviceUrl,
      appId: String(payload.appid ?? this.settings.appId),
      sub: String(payload.sub ?? ""),
      until: Math.min(Number(payload.exp) * 1000 || 0, Date.now() + VERIFIED_MS),
    };
    if (this.verified.size >= VERIFIED_MAX) this.verified.clear();
    this.verified.set(token, verified);
    return this.tokenFor(verified, activity.serviceUrl);
  }

  private tokenFor(verified: Verified, serviceUrl: string): IToken {
    return {
      appId: verified.appId,
      from: "azure",
      fromId: verified.sub,
      serviceUrl,
      isExpired: () => false,
    };
  }

  private async jwt(): Promise<JwtValidator> {
    if (this.validator && this.validator.until > Date.now()) return this.validator.jwt;
    const metadata = await this.metadata();
    const jwt = new JwtValidator(
      {
        clientId: this.settings.appId,
        tenantId: this.settings.tenantId,
        validateIssuer: { allowedIssuer: metadata.issuer },
        jwksUriOptions: { type: "uri", uri: metadata.jwks_uri },
      },
      this.logger,
    );
    this.validator = { jwt, until: Date.now() + METADATA_MS };
    return jwt;
  }

  private async metadata(): Promise<OpenIdMetadata> {
    const response = await fetch(this.settings.openIdMetadataUrl, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) {
      throw new Error(`the Bot Framework's OpenID metadata answered HTTP ${response.status}`);
    }
    const metadata = (await response.json()) as Partial<OpenIdMetadata>;
    if (typeof metadata.issuer !== "string" || typeof metadata.jwks_uri !== "string") {
      throw new Error("the Bot Framework's OpenID metadata names no issuer or jwks_uri");
    }
    return { issuer: metadata.issuer, jwks_uri: metadata.jwks_uri };
  }
}
