import type { IncomingHttpHeaders } from "node:http";
import type { Request, Response } from "express";
import type { z } from "zod";
import type { Principal } from "../../authz/index.js";

/**
 * One entry per API route: the same table registers the Express handlers and produces the
 * OpenAPI document, so the document cannot drift from what the server does.
 */

export type HttpMethod = "get" | "post" | "put" | "delete";

export interface RouteInput<Q, P> {
  principal: Principal;
  query: Q;
  params: P;
  /** The parsed JSON body; handlers validate it with the domain's own validator. */
  body: unknown;
  headers: IncomingHttpHeaders;
  requestId: string | undefined;
}

export interface RouteResult {
  status?: number;
  body?: unknown;
}

export interface Route {
  method: HttpMethod;
  /** OpenAPI style, relative to /api/v1: `/agents/{name}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** false: answers without credentials (the schema documents). */
  authenticated: boolean;
  query?: z.ZodObject;
  params?: z.ZodObject;
  /** Documents the request body. */
  body?: z.ZodType;
  /** What to send, said when the body is missing: e.g. `Send {"input": "…"} as …`. */
  bodyHint?: string;
  response: {
    status: number;
    description: string;
    schema?: z.ZodType;
    /** Default application/json; text/event-stream for `stream` routes. */
    contentType?: string;
  };
  /** Error statuses worth documenting besides 401 and 503. */
  errors: number[];
  handle(input: RouteInput<unknown, unknown>): Promise<RouteResult>;
  /**
   * Writes the response itself (Server-Sent Events), after `handle` has checked the request
   * and answered `{ body: state }` with what the stream needs.
   */
  stream?(state: unknown, req: Request, res: Response): Promise<void>;
}

/** Declares a route with its handler typed by its own schemas. */
export function defineRoute<
  Q extends z.ZodObject = z.ZodObject,
  P extends z.ZodObject = z.ZodObject,
>(
  route: Omit<Route, "query" | "params" | "handle"> & {
    query?: Q;
    params?: P;
    handle(input: RouteInput<z.output<Q>, z.output<P>>): Promise<RouteResult>;
    // biome-ignore lint/suspicious/noExplicitAny: the state is what this route's own handle answered.
    stream?(state: any, req: Request, res: Response): Promise<void>;
  },
): Route {
  return route as unknown as Route;
}
