import type { IncomingMessage, ServerResponse } from "node:http";
import { isValidSlackRequest, type ReceiverEvent } from "@slack/bolt";
import type { Logger } from "pino";
import { type FastRoute, readBody, requestPath } from "../../core/index.js";
import { QuietGate } from "../chat/index.js";
import { eventBodyProblem } from "./slack-bodies.js";

/** Slack's event payloads are a few KB; anything near this is not Slack. */
export const MAX_BODY_BYTES = 1_000_000;
/**
 * Handling starts once no event has come for this long (a burst has been answered)… With
 * 5 ms, a sender's own pause in the middle of a burst on a busy machine let handling start
 * early, and the burst's last acknowledgements waited behind it (p99 up to 0.8 s, against
 * under 0.1 s with 20 ms). One mention on its own waits this long before its handling.
 */
const QUIET_MS = 20;
/** …or once the oldest has waited this long, so a steady stream is handled too. */
const MAX_HOLD_MS = 250;

export interface SlackEventIntakeOptions {
  path: string;
  signingSecret: string;
  /** Hands an acknowledged event to Bolt (App.processEvent), however many at once it allows. */
  dispatch: (event: ReceiverEvent) => Promise<void>;
  logger: Logger;
}

/**
 * The Events API's front door, ahead of express: a signed JSON event is checked, answered
 * 200 and only then handed to Bolt. Slack wants the answer within 3 s and retries
 * otherwise; under a burst of mentions, each request's trip through express, request
 * logging and Bolt's receiver queued the acknowledgements behind one another and behind
 * the work of the mentions before them. Here an acknowledgement costs a signature check
 * and a JSON parse, and the handling waits until the requests pause (QuietGate), so
 * acknowledgements are not stuck behind it.
 *
 * Slash commands and button clicks come form-encoded and may need Bolt's answer in the
 * response body: those are left to the express route (Bolt's receiver).
 */
export class SlackEventIntake {
  /** The handler to put ahead of express. */
  readonly route: FastRoute;
  private readonly gate = new QuietGate(QUIET_MS, MAX_HOLD_MS);
  private readonly handling = new Set<Promise<void>>();

  constructor(private readonly options: SlackEventIntakeOptions) {
    this.route = (req, res) => this.take(req, res);
  }

  /**
   * Handles what was acknowledged and is still held or under way, for a stop: Slack will not
   * send those events again. Call it once the HTTP server takes no more requests.
   */
  async drain(): Promise<void> {
    this.gate.flush();
    await Promise.allSettled([...this.handling]);
  }

  private take(req: IncomingMessage, res: ServerResponse): boolean {
    const { path } = this.options;
    if (req.method !== "POST" || requestPath(req) !== path) return false;
    const type = String(req.headers["content-type"] ?? "").toLowerCase();
    if (!type.startsWith("application/json")) return false;
    this.gate.arrived();
    readBody(req, MAX_BODY_BYTES, {
      bodyRead: (body) => this.received(req, res, body.toString("utf8")),
      bodyFailed: (reason) =>
        reason === "too_large"
          ? answer(res, 413, "the body is too large for a Slack event")
          : answer(res, 400, "the request was cut off"),
    });
    return true;
  }

  private received(req: IncomingMessage, res: ServerResponse, body: string): void {
    const { signingSecret, logger } = this.options;
    const timestamp = Number(req.headers["x-slack-request-timestamp"]);
    const signature = String(req.headers["x-slack-signature"] ?? "");
    const headers = { "x-slack-signature": signature, "x-slack-request-timestamp": timestamp };
    if (!isValidSlackRequest({ signingSecret, body, headers })) {
      logger.info("refused a Slack event: bad signature or stale timestamp");
      answer(res, 401, "");
      return;
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      answer(res, 400, "the body is not JSON");
      return;
    }
    // Signed, but not a body Slack sends: Bolt would throw on it, here in a stream listener.
    const problem = eventBodyProblem(parsed);
    if (problem) {
      logger.info({ problem }, "refused a signed Slack event that is not one Slack sends");
      answer(res, 400, `${problem}: this is not an event Slack sends`);
      return;
    }
    if (parsed.type === "url_verification") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ challenge: parsed.challenge }));
      return;
    }
    answer(res, 200, "");
    // app_rate_limited and any newer type: acknowledged, nothing for Bolt to do.
    if (parsed.type !== "event_callback") return;
    const retryNum = Number(req.headers["x-slack-retry-num"]);
    const retryReason = req.headers["x-slack-retry-reason"];
    const event: ReceiverEvent = {
      body: parsed,
      ack: async () => {},
      ...(Number.isInteger(retryNum) ? { retryNum } : {}),
      ...(typeof retryReason === "string" ? { retryReason } : {}),
    };
    // After the answer is on its way, and after the answers of the requests around it.
    this.gate.defer(() => this.handle(event));
  }

  private handle(event: ReceiverEvent): void {
    const done: Promise<void> = this.options
      .dispatch(event)
      .catch((err: unknown) => this.options.logger.error({ err }, "a Slack event failed"))
      .finally(() => this.handling.delete(done));
    this.handling.add(done);
  }
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(text);
}
