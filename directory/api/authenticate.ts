import type { Request, RequestHandler, Response } from "express";
import type { Principal } from "../../authz/index.js";
import { unauthenticated } from "../../core/index.js";
import type { ApiKeys } from "../keys/api-keys.js";

/**
 * One way of telling who is calling. A strategy answers `undefined` when the request does
 * not carry its kind of credentials (so the next strategy may try), a principal when they
 * are good, and throws `unauthenticated` when they are present but bad.
 *
 * Bearer API keys are the base strategy; with OIDC configured, the issuer's JWTs
 * (`bearerOidcToken`, directory/site/oidc) go in front of it, and the directory site adds its
 * session cookie (with CSRF checks on unsafe methods) after it.
 */
export type AuthStrategy = (req: Request) => Promise<Principal | undefined>;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function bearerApiKey(keys: ApiKeys): AuthStrategy {
  return async (req) => {
    const header = req.headers.authorization;
    if (header === undefined) return undefined;
    const match = BEARER.exec(header);
    if (!match?.[1]) {
      throw unauthenticated("Send the API key as `Authorization: Bearer <key>`.");
    }
    return keys.authenticate(match[1]);
  };
}

/** The caller, as `authenticate` found them. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw unauthenticated();
  return principal;
}

/** Finds the caller with the first strategy that recognises the request; none: 401. */
export function authenticate(strategies: readonly AuthStrategy[]): RequestHandler {
  return async (req, res, next) => {
    try {
      for (const strategy of strategies) {
        const principal = await strategy(req);
        if (principal) {
          res.locals.principal = principal;
          next();
          return;
        }
      }
      throw unauthenticated(
        "Send an API key as `Authorization: Bearer <key>`; `switchboard keys create` makes one.",
      );
    } catch (error) {
      res.setHeader("www-authenticate", 'Bearer realm="switchboard"');
      next(error);
    }
  };
}
