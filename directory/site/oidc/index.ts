/** OpenID Connect sign-in for the directory site (authorization code flow with PKCE). */
export { FlowCookies } from "./flow-cookie.js";
export { bearerOidcToken, type OidcBearerSettings } from "./oidc-bearer.js";
export {
  OIDC_CALLBACK_PATH,
  OIDC_START_PATH,
  type OidcRoutesOptions,
  oidcRoutes,
} from "./oidc-routes.js";
export {
  type OidcHooks,
  type OidcIdentity,
  OidcRefusal,
  type OidcSettings,
  OidcSignIn,
} from "./oidc-sign-in.js";
