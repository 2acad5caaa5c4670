import {
  A2AError,
  RequestMalformedError,
  TaskNotCancelableError,
  TaskNotFoundError,
} from "@a2a-js/sdk/errors";
import { isSwitchboardError } from "../../core/index.js";

/**
 * JSON-RPC's range for errors an implementation defines is -32000 to -32099; A2A takes
 * -32001 and up. A refusal of ours (no right to run, a budget, a suspended agent, a
 * conversation that is not the caller's) is -32000, its words in `message` and our stable
 * code in `data.reason`.
 */
export const REFUSED = -32000;

/**
 * A refusal with our own code. The SDK writes an A2AError that says it is a JSON-RPC one
 * (transport and envelopeCode) as `{ code, message, data }` in both protocol versions.
 */
export class SwitchboardRefusal extends A2AError {
  readonly transport = "jsonrpc";
  readonly envelopeCode = REFUSED;
  readonly data: { reason: string };

  constructor(message: string, code: string) {
    super({ message, metadata: { code } });
    this.name = "SwitchboardRefusal";
    this.data = { reason: code };
  }
}

/**
 * Our errors in the protocol's terms, their words kept: a bad request is invalid params, an
 * unknown run is "task not found", a finished one "not cancelable", a refusal -32000. An
 * unexpected error is left as it is: the SDK answers an internal error.
 */
export function toProtocolError(error: unknown, about: "task" | "message"): unknown {
  if (!isSwitchboardError(error) || error instanceof A2AError) return error;
  if (error.status === 400) return new RequestMalformedError(error.message);
  if (about === "task" && error.status === 404) return new TaskNotFoundError(error.message);
  if (about === "task" && error.code === "conflict") {
    return new TaskNotCancelableError(error.message);
  }
  if (error.status >= 500) return error;
  return new SwitchboardRefusal(error.message, error.code);
}
