import type { RequestHandler } from "express";

/**
 * Headers every response carries. Nothing Switchboard serves may be framed (the agent
 * page's chat box takes ?prompt=, so a framed page is a click away from running someone's
 * words), sniffed into another type, or leak its URL to another site. The Content-Security-
 * Policy here is for what is not a page (JSON, event streams, text): it loads nothing. The
 * site sets its own, for pages, over it.
 */
export const BASELINE_CONTENT_SECURITY_POLICY =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    "content-security-policy": BASELINE_CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
  });
  next();
};
