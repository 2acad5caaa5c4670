import { createHash, timingSafeEqual } from "node:crypto";
import express, { type NextFunction, type Request, type Response, Router } from "express";
import { describeUnstorableInput, findUnstorableInput } from "../../core/index.js";
import {
  listResponse,
  MAX_RESULTS,
  resourceTypes,
  schemas,
  serviceProviderConfig,
} from "./scim-discovery.js";
import { invalidFilter, invalidSyntax, invalidValue, ScimError } from "./scim-errors.js";
import { type Filter, parseFilter } from "./scim-filter.js";
import { readPatch } from "./scim-patch.js";
import type { ListPage, ListQuery, ScimService } from "./scim-service.js";

export const SCIM_BASE = "/scim/v2";
const CONTENT_TYPE = "application/scim+json; charset=utf-8";
const MAX_BODY = "1mb";

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * The bearer token check: only the Authorization header counts (a token in the query string
 * would end up in access logs, so it is not accepted), compared in constant time over
 * digests so neither its content nor its length leaks through timing.
 */
function bearerToken(token: string) {
  const expected = digest(token);
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer +(\S+)\s*$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1] as string), expected)) {
      return next(new ScimError(401, "Send the SCIM token as Authorization: Bearer TOKEN."));
    }
    next();
  };
}

function send(res: Response, status: number, body: unknown): void {
  res.status(status).type(CONTENT_TYPE).send(JSON.stringify(body));
}

/** `startIndex` (1-based) and `count` (RFC 7644 §3.4.2.4): out-of-range values are clamped. */
function paging(req: Request): { startIndex: number; count: number } {
  const number = (name: string, fallback: number) => {
    const raw = req.query[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== "string" || !/^-?\d{1,9}$/.test(raw)) {
      throw invalidValue(`${name} is a whole number.`);
    }
    return Number(raw);
  };
  return {
    startIndex: Math.max(1, number("startIndex", 1)),
    count: Math.min(MAX_RESULTS, Math.max(0, number("count", 100))),
  };
}

function filterOf(req: Request): Filter | undefined {
  const raw = req.query.filter;
  if (raw === undefined || raw === "") return undefined;
  if (typeof raw !== "string") throw invalidFilter("Send one filter.");
  return parseFilter(raw);
}

async function page(
  req: Request,
  res: Response,
  list: (query: ListQuery) => Promise<ListPage>,
): Promise<void> {
  const filter = filterOf(req);
  const { startIndex, count } = paging(req);
  // Entra looks groups up with excludedAttributes=members: a large group's list is not sent.
  const excluded = String(req.query.excludedAttributes ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase());
  const members = !excluded.includes("members");
  const { resources, total } = await list({ filter, startIndex, count, members });
  if (!members) for (const resource of resources) delete resource.members;
  send(res, 200, listResponse(resources, total, startIndex));
}

export interface ScimRouterOptions {
  token: string;
  service: ScimService;
  /** The service's address as the provider reaches it (PUBLIC_URL + /scim/v2), for `location`. */
  baseUrl: string;
}

/**
 * The SCIM 2.0 service provider (RFC 7644) under /scim/v2: Users, Groups, and what it says
 * about itself. Mounted only when SCIM_TOKEN is set; everything it answers is SCIM JSON,
 * errors included.
 */
export function createScimRouter(options: ScimRouterOptions): Router {
  const { service, baseUrl: base } = options;
  const router = Router();
  router.use(bearerToken(options.token));
  router.use(
    express.json({ type: ["application/scim+json", "application/json"], limit: MAX_BODY }),
    (req: Request, _res: Response, next: NextFunction) => {
      // What no column can take (a NUL, half a surrogate pair) is the provider's to fix.
      const unstorable = findUnstorableInput(req.body);
      if (!unstorable) return next();
      next(invalidValue(describeUnstorableInput("The body", unstorable)));
    },
  );
  const route =
    (work: (req: Request, res: Response) => Promise<void>) =>
    (req: Request, res: Response, next: NextFunction) =>
      work(req, res).catch(next);
  const id = (req: Request) => String(req.params.id);

  router.get(
    "/ServiceProviderConfig",
    route(async (_req, res) => send(res, 200, serviceProviderConfig(base))),
  );
  router.get(
    "/ResourceTypes",
    route(async (_req, res) => {
      const types = resourceTypes(base);
      send(res, 200, listResponse(types, types.length, 1));
    }),
  );
  router.get(
    "/ResourceTypes/:id",
    route(async (req, res) => {
      const type = resourceTypes(base).find((t) => t.id === req.params.id);
      if (!type) throw new ScimError(404, "No such resource type.");
      send(res, 200, type);
    }),
  );
  router.get(
    "/Schemas",
    route(async (_req, res) => {
      const all = schemas(base);
      send(res, 200, listResponse(all, all.length, 1));
    }),
  );
  router.get(
    "/Schemas/:id",
    route(async (req, res) => {
      const schema = schemas(base).find((s) => s.id === req.params.id);
      if (!schema) throw new ScimError(404, "No such schema.");
      send(res, 200, schema);
    }),
  );

  router.get(
    "/Users",
    route((req, res) => page(req, res, (query) => service.listUsers(base, query))),
  );
  router.get(
    "/Users/:id",
    route(async (req, res) => send(res, 200, await service.getUser(id(req), base))),
  );
  router.post(
    "/Users",
    route(async (req, res) => {
      const user = await service.createUser(req.body, base);
      res.setHeader("location", String((user.meta as { location: string }).location));
      send(res, 201, user);
    }),
  );
  router.put(
    "/Users/:id",
    route(async (req, res) => send(res, 200, await service.replaceUser(id(req), req.body, base))),
  );
  router.patch(
    "/Users/:id",
    route(async (req, res) => {
      send(res, 200, await service.patchUser(id(req), readPatch(req.body), base));
    }),
  );
  router.delete(
    "/Users/:id",
    route(async (req, res) => {
      await service.deleteUser(id(req));
      res.status(204).end();
    }),
  );

  router.get(
    "/Groups",
    route((req, res) => page(req, res, (query) => service.listGroups(base, query))),
  );
  router.get(
    "/Groups/:id",
    route(async (req, res) => send(res, 200, await service.getGroup(id(req), base))),
  );
  router.post(
    "/Groups",
    route(async (req, res) => {
      const group = await service.createGroup(req.body, base);
      res.setHeader("location", String((group.meta as { location: string }).location));
      send(res, 201, group);
    }),
  );
  router.put(
    "/Groups/:id",
    route(async (req, res) => send(res, 200, await service.replaceGroup(id(req), req.body, base))),
  );
  router.patch(
    "/Groups/:id",
    route(async (req, res) => {
      send(res, 200, await service.patchGroup(id(req), readPatch(req.body), base));
    }),
  );
  router.delete(
    "/Groups/:id",
    route(async (req, res) => {
      await service.deleteGroup(id(req));
      res.status(204).end();
    }),
  );

  router.use((_req: Request, _res: Response, next: NextFunction) => {
    next(new ScimError(404, "No such SCIM endpoint: see /scim/v2/ResourceTypes."));
  });
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof ScimError) return send(res, error.status, error.body());
    const parse = error as { type?: string; status?: number };
    if (parse.type === "entity.parse.failed") {
      return send(res, 400, invalidSyntax("The body is not valid JSON.").body());
    }
    if (parse.type === "entity.too.large") {
      return send(res, 413, new ScimError(413, "The body is too large.").body());
    }
    if (parse.type === "encoding.unsupported" || parse.type === "charset.unsupported") {
      return send(res, 415, new ScimError(415, "Send the body as UTF-8 JSON.").body());
    }
    // Another of the framework's 4xx (http-errors), in SCIM's shape with its own words.
    if (typeof parse.status === "number" && parse.status >= 400 && parse.status < 500) {
      const message = error instanceof Error ? error.message : "The request is not valid.";
      return send(res, parse.status, new ScimError(parse.status, message).body());
    }
    req.log?.error({ err: error }, "SCIM request failed");
    send(res, 500, new ScimError(500, "Switchboard could not complete this SCIM request.").body());
  });
  return router;
}
