import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { badRequest } from "../../core/index.js";
import { readJson } from "../../test/support/http.js";
import { createLogger } from "../logger.js";
import {
  createHttpApp,
  createHttpMetrics,
  type HttpServerHandle,
  type ReadinessCheck,
  startHttpServer,
} from "./index.js";

const lines: string[] = [];
const logger = createLogger({ level: "info" }, { write: (line: string) => lines.push(line) });

let server: HttpServerHandle;
let databaseUp = true;
const checks: ReadinessCheck[] = [
  {
    name: "database",
    check: async () => {
      if (!databaseUp) throw new Error("connection refused");
    },
  },
];

beforeAll(async () => {
  const app = createHttpApp({
    logger,
    metrics: createHttpMetrics(),
    checks: () => checks,
    isStopping: () => false,
    mount(app) {
      app.post("/echo", express.json({ limit: 64 }), (req, res) => {
        res.json(req.body);
      });
      app.get("/teapot", () => {
        throw badRequest("The kettle needs a name.", { field: "name" });
      });
      app.post("/form", express.urlencoded({ extended: false, parameterLimit: 2 }), (_req, res) => {
        res.end();
      });
      app.get("/things/:name", (req, res) => {
        res.json({ name: req.params.name, q: req.query.q ?? null });
      });
      app.get("/boom", () => {
        throw new Error("database password is hunter2");
      });
      app.get("/restarting", () => {
        // What pg throws at a query whose backend PostgreSQL cut while shutting down.
        throw Object.assign(new Error("terminating connection due to administrator command"), {
          code: "57P01",
        });
      });
    },
  });
  server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await server.close(100);
});

describe("errors", () => {
  it("answer a Switchboard error with its code, status, message and the request id", async () => {
    const response = await fetch(`${server.url}/teapot`);
    expect(response.status).toBe(400);
    const body = await readJson(response);
    expect(body).toEqual({
      error: {
        code: "bad_request",
        message: "The kettle needs a name.",
        details: { field: "name" },
        request_id: response.headers.get("x-request-id"),
      },
    });
  });

  it("hide an unexpected failure's cause from the client but keep it in the log", async () => {
    const response = await fetch(`${server.url}/boom`, { headers: { "x-request-id": "trace-42" } });
    expect(response.status).toBe(500);
    const body = await readJson(response);
    expect(body.error.code).toBe("internal_error");
    expect(body.error.request_id).toBe("trace-42");
    expect(JSON.stringify(body)).not.toContain("hunter2");
    const logged = lines
      .map((line) => JSON.parse(line))
      .find((entry) => entry.req?.id === "trace-42");
    expect(logged?.err?.message).toBe("database password is hunter2");
  });

  it("answer a database that cannot be reached with a 503 a client may retry, not a 500", async () => {
    const response = await fetch(`${server.url}/restarting`);
    expect(response.status).toBe(503);
    expect((await readJson(response)).error).toMatchObject({
      code: "database_unavailable",
      message: "Switchboard cannot reach its database right now; try again in a moment.",
    });
  });

  it("explain malformed JSON and bodies over the limit", async () => {
    const bad = await fetch(`${server.url}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    expect((await readJson(bad)).error.code).toBe("invalid_json");

    const big = await fetch(`${server.url}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "x".repeat(500) }),
    });
    expect(big.status).toBe(413);
    expect((await readJson(big)).error).toMatchObject({ code: "payload_too_large" });
  });

  it("refuse a path that is not percent-encoded UTF-8 with a 400 in words, not a 500", async () => {
    for (const path of ["/things/%E0%A4%A", "/things/%ED%A0%80", "/things/%FF"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(400);
      expect((await readJson(response)).error.message).toMatch(/%-escape in its path is not UTF-8/);
    }
    const fine = await fetch(`${server.url}/things/caf%C3%A9?q=%F0%9F%98%80`);
    expect(await readJson(fine)).toEqual({ name: "café", q: "😀" });
  });

  it("refuse a NUL in any route's path or query before the route sees it", async () => {
    const inPath = await fetch(`${server.url}/things/a%00b`);
    expect(inPath.status).toBe(400);
    expect((await readJson(inPath)).error.message).toMatch(/path contains a NUL character/);
    const inQuery = await fetch(`${server.url}/things/a?q=x%00y`);
    expect(inQuery.status).toBe(400);
    expect((await readJson(inQuery)).error.message).toMatch(/query's q contains a NUL/);
  });

  it("pass on another framework 4xx (a form with too many fields) with its words", async () => {
    const response = await fetch(`${server.url}/form`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=1&b=2&c=3",
    });
    expect(response.status).toBe(413);
    expect((await readJson(response)).error.message).toMatch(/too many parameters/);
  });

  it("answer an address too long for Node's parser with a 431 in words, not an empty body", async () => {
    const response = await fetch(`${server.url}/things/a?q=${"x".repeat(20_000)}`);
    expect(response.status).toBe(431);
    expect((await readJson(response)).error.message).toMatch(/larger than this server takes/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("name the route that does not exist", async () => {
    const response = await fetch(`${server.url}/nowhere`, { method: "DELETE" });
    expect(response.status).toBe(404);
    expect((await readJson(response)).error).toMatchObject({
      code: "route_not_found",
      message: "There is no DELETE /nowhere here.",
    });
  });
});

describe("request ids", () => {
  it("keep a caller's sane id and replace one that is not", async () => {
    const kept = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "abc-123" } });
    expect(kept.headers.get("x-request-id")).toBe("abc-123");
    const replaced = await fetch(`${server.url}/healthz`, {
      headers: { "x-request-id": "<script>" },
    });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("readiness and metrics", () => {
  it("reports 503 naming the dependency that is down, then 200 when it is back", async () => {
    databaseUp = false;
    const down = await fetch(`${server.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await readJson(down)).toMatchObject({
      checks: { database: "down: connection refused" },
      error: { message: "Not ready: database is down." },
    });
    databaseUp = true;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it("counts requests by route pattern in Prometheus text", async () => {
    await fetch(`${server.url}/teapot`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(
      /switchboard_http_requests_total\{method="GET",route="\/teapot",status="400"\} \d+/,
    );
    expect(text).toContain("switchboard_process_cpu_user_seconds_total");
  });
});

describe("security headers", () => {
  it("go on every answer, errors and health included: no framing, no sniffing, no referrer to other sites, nothing loaded", async () => {
    for (const path of ["/teapot", "/healthz", "/no-such-route"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.headers.get("content-security-policy")).toBe(
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      );
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("referrer-policy")).toBe("same-origin");
    }
  });
});
