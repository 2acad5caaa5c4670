import type { RequestHandler, Response } from "express";
import type { Html } from "./html.js";
import type { Section } from "./pages/layout.js";

/**
 * What every group of pages mounted from its own file (admin, runs, secrets) takes from the
 * site router: the session, the sign-in guard, the page frame and the CSRF token for forms.
 */
export interface SitePageParts {
  /** Body parsing and the site session (with its CSRF check on POST). */
  session: RequestHandler[];
  signedIn: RequestHandler;
  send(
    res: Response,
    page: { title: string; section: Section; body: Html; status?: number },
  ): Promise<void>;
  csrfToken(res: Response): string;
}
