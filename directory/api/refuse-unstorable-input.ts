import type { RequestHandler } from "express";
import { badRequest, describeUnstorableInput, findUnstorableInput } from "../../core/index.js";

/**
 * After a router's body parser: a query or body that no field can store (a NUL character,
 * hostile nesting) is a 400 that says where, before any handler or query sees it.
 */
export const refuseUnstorableInput: RequestHandler = (req, _res, next) => {
  const inQuery = findUnstorableInput(req.query);
  if (inQuery) return next(badRequest(describeUnstorableInput("The query", inQuery)));
  const inBody = findUnstorableInput(req.body);
  if (inBody) return next(badRequest(describeUnstorableInput("The request body", inBody)));
  next();
};
