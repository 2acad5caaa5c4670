/** The directory site: server-rendered catalog, agent pages, admin and sign-in. */

export { type ChatLinkSettings, chatLinks } from "./chat-links.js";
export { type Html, html, raw } from "./html.js";
export {
  bearerOidcToken,
  FlowCookies,
  OIDC_CALLBACK_PATH,
  type OidcBearerSettings,
  type OidcHooks,
  OidcRefusal,
  type OidcSettings,
  OidcSignIn,
} from "./oidc/index.js";
export type { ChatLinks } from "./pages/agent-page.js";
export type { CookieSecurity } from "./request-origin.js";
export { SessionCookies } from "./session-cookie.js";
export {
  CSRF_HEADER,
  type SignInModes,
  type SiteAuth,
  sessionCookieStrategy,
} from "./site-auth.js";
export { createDirectorySite, type DirectorySiteOptions } from "./site-router.js";
export {
  type SessionSummary,
  type SignInMethod,
  SiteSessions,
} from "./site-sessions.js";
