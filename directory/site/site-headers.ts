import type { RequestHandler } from "express";

/**
 * The site's Content-Security-Policy: its pages load only the site's own stylesheet and
 * script (no inline script or style anywhere: site.js reads what it needs from data-
 * attributes and a meta tag), talk only to this origin (the API and run event streams), post
 * forms only here, and are framed by no one. The OIDC "Sign in with …" button is a link, not
 * a form, so its redirect to the issuer is a navigation form-action does not govern.
 */
export const SITE_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join("; ");

export const siteHeaders: RequestHandler = (_req, res, next) => {
  res.set("content-security-policy", SITE_CONTENT_SECURITY_POLICY);
  next();
};
