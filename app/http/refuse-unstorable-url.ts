import type { RequestHandler } from "express";
import {
  badRequest,
  describeUnstorableInput,
  findUnstorableInput,
  unstorableTextProblem,
} from "../../core/index.js";

/**
 * Before any module's routes: an address whose path is not percent-encoded UTF-8 (`%E0%A4%A`,
 * or `%ED%A0%80`, half a surrogate pair), or whose path or query carries what no field can
 * store (a NUL, `%00`), is a 400 that says so. One check here covers every route's path
 * parameters and query (the API, the site, SCIM, the chat intakes); bodies are checked by
 * each module's body reader with the same findUnstorableInput, since each parses its own.
 */
export const refuseUnstorableUrl: RequestHandler = (req, _res, next) => {
  for (const segment of req.path.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return next(
        badRequest(
          "The address is not valid: a %-escape in its path is not UTF-8 text (write each character's UTF-8 bytes, e.g. %C3%A9 for é).",
        ),
      );
    }
    const problem = unstorableTextProblem(decoded);
    if (problem) return next(badRequest(`The address's path ${problem}.`));
  }
  const inQuery = findUnstorableInput(req.query);
  if (inQuery) return next(badRequest(describeUnstorableInput("The query", inQuery)));
  next();
};
