import type { IncomingMessage, ServerResponse } from "node:http";
import { isValidSlackRequest } from "@slack/bolt";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { readBody } from "../../core/index.js";
import { MAX_BODY_BYTES } from "./event-intake.js";
import { formBodyProblem } from "./slack-bodies.js";

const FORM = "application/x-www-form-urlencoded";

/**
 * Ahead of Bolt's express receiver at /slack/events, which takes what the events intake
 * leaves to it: slash commands and clicks, posted as forms. The body is read, its signature
 * checked, and its shape: a signed `payload=null` made Bolt answer 500 after throwing on it;
 * now it is a 400 that says what is wrong and Bolt never sees it. Bolt then reads the same
 * bytes (as `rawBody`) and checks the signature again.
 */
export function slackFormGuard(options: { signingSecret: string; logger: Logger }): RequestHandler {
  return (req, res, next) => {
    readBody(req, MAX_BODY_BYTES, {
      bodyRead: (body) => {
        const refusal = refuse(req, body, options);
        if (refusal) return answer(res, refusal.status, refusal.text);
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
        next();
      },
      bodyFailed: (reason) =>
        reason === "too_large"
          ? answer(res, 413, "the body is too large for a Slack request")
          : answer(res, 400, "the request was cut off"),
    });
  };
}

function refuse(
  req: IncomingMessage,
  body: Buffer,
  options: { signingSecret: string; logger: Logger },
): { status: number; text: string } | undefined {
  const text = body.toString("utf8");
  const headers = {
    "x-slack-signature": String(req.headers["x-slack-signature"] ?? ""),
    "x-slack-request-timestamp": Number(req.headers["x-slack-request-timestamp"]),
  };
  if (!isValidSlackRequest({ signingSecret: options.signingSecret, body: text, headers })) {
    options.logger.info("refused a Slack request: bad signature or stale timestamp");
    return { status: 401, text: "" };
  }
  const type = String(req.headers["content-type"] ?? "")
    .split(";")[0]
    ?.trim()
    .toLowerCase();
  if (type !== FORM) {
    return { status: 415, text: "Slack posts events as JSON and commands and clicks as forms" };
  }
  const problem = formBodyProblem(new URLSearchParams(text));
  if (!problem) return undefined;
  options.logger.info({ problem }, "refused a signed Slack form that is not one Slack sends");
  return { status: 400, text: `${problem}: this is not a request Slack sends` };
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(text);
}
