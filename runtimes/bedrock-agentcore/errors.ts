import { excerpt } from "../excerpt.js";
import { RUNTIME_ERROR_CODES, RuntimeError, unreachableError } from "../runtime-error.js";
import { AGENT, agentFailed } from "./answer.js";

/** An SDK error as far as we read it: its modeled name and HTTP status. */
interface ServiceError extends Error {
  $metadata?: { httpStatusCode?: number };
}

/** The session id AgentCore no longer has (StopRuntimeSession on a gone session). */
export function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === "ResourceNotFoundException";
}

const CREDENTIALS_REFUSED = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "IncompleteSignature",
  "UnauthorizedException",
  "CredentialsProviderError",
]);

/**
 * Whatever the SDK threw, as a RuntimeError in words (AgentCore's errors:
 * https://docs.aws.amazon.com/bedrock-agentcore/latest/APIReference/API_InvokeAgentRuntime.html).
 * Messages from AWS about credentials are not quoted: some name the access key.
 */
export function toRuntimeError(
  error: unknown,
  context: { arn: string; qualifier: string | undefined; forUser?: boolean },
): RuntimeError {
  if (error instanceof RuntimeError) return error;
  const err = error as ServiceError;
  const status = err?.$metadata?.httpStatusCode;
  const name = err instanceof Error ? err.name : "";
  const said = err instanceof Error && err.message ? `: ${excerpt(err.message)}` : "";
  if (CREDENTIALS_REFUSED.has(name)) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      "AWS refused this agent's credentials: check spec.runtime.credentials (or the worker's own AWS credentials when it has none).",
    );
  }
  if (status === undefined) return unreachableError(AGENT, error);
  if (name === "AccessDeniedException" || status === 403) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      context.forUser
        ? `The AWS credentials may not invoke agent runtime ${context.arn} for a user (HTTP 403); with send_runtime_user_id they need both bedrock-agentcore:InvokeAgentRuntime and bedrock-agentcore:InvokeAgentRuntimeForUser on it.`
        : `The AWS credentials may not invoke agent runtime ${context.arn} (HTTP 403); they need bedrock-agentcore:InvokeAgentRuntime on it.`,
    );
  }
  if (name === "ResourceNotFoundException" || status === 404) {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.rejected,
      `AgentCore has no agent runtime ${context.arn}${context.qualifier ? ` with an endpoint ${context.qualifier}` : ""} in this region (HTTP 404): check spec.runtime.agent_runtime_arn, qualifier and region${said}`,
    );
  }
  if (name === "RuntimeClientError" || status === 424) {
    return agentFailed(err.message || "the agent's container failed");
  }
  if (status === 429 || status >= 500 || name === "ThrottlingException") {
    return new RuntimeError(
      RUNTIME_ERROR_CODES.unavailable,
      `AgentCore could not run the agent now (HTTP ${status}${name ? ` ${name}` : ""}); it will be tried again${said ? ` (${said.slice(2)})` : "."}`,
      { retryable: true },
    );
  }
  return new RuntimeError(
    RUNTIME_ERROR_CODES.rejected,
    `AgentCore refused the request (HTTP ${status}${name ? ` ${name}` : ""})${said}`,
  );
}
