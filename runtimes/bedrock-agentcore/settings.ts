import { z } from "zod";
import { secretSetting, timeoutSeconds } from "../http/index.js";

/**
 * `spec.runtime` for an agent on Amazon Bedrock AgentCore Runtime. The agent runtime is
 * created and deployed with AWS's own tooling (the AgentCore starter kit, CDK, the console);
 * Switchboard only invokes it.
 */
export const bedrockAgentCoreSettings = z.strictObject({
  type: z.literal("bedrock-agentcore"),
  /** The agent runtime's ARN, as `CreateAgentRuntime` or the console gives it. */
  agent_runtime_arn: z
    .string({ error: "must be the agent runtime's ARN" })
    .regex(
      /^arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:\d{12}:runtime\/[A-Za-z][A-Za-z0-9_]{0,99}-[A-Za-z0-9]{10}$/,
      "must be the agent runtime's ARN, such as arn:aws:bedrock-agentcore:us-east-1:111122223333:runtime/support_agent-a1B2c3D4e5",
    ),
  /** The endpoint (version alias) to invoke; AgentCore's DEFAULT when absent. */
  qualifier: z
    .string({ error: "must be the name of one of the agent runtime's endpoints, such as DEFAULT" })
    .regex(
      /^[A-Za-z][A-Za-z0-9_]{0,47}$/,
      "must be the name of one of the agent runtime's endpoints, such as DEFAULT",
    )
    .optional(),
  region: z
    .string({ error: "must be an AWS region, such as us-east-1" })
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region, such as us-east-1"),
  /** Another API address (a VPC endpoint); AgentCore's regional endpoint when absent. */
  endpoint: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL, such as a VPC endpoint's" })
    .optional(),
  /**
   * AWS credentials as references; the worker's own (its role, the standard provider chain)
   * when absent.
   */
  credentials: z
    .strictObject(
      {
        access_key_id: secretSetting,
        secret_access_key: secretSetting,
        session_token: secretSetting.optional(),
      },
      {
        error:
          "must be { access_key_id, secret_access_key } as secret references, or left out to use the worker's own AWS credentials",
      },
    )
    .optional(),
  /**
   * Send each person's opaque Switchboard id as AgentCore's `runtimeUserId` (the
   * X-Amzn-Bedrock-AgentCore-Runtime-User-Id header), so the agent can keep per-person state
   * and get workload tokens for them. Off unless asked: AWS then also requires
   * `bedrock-agentcore:InvokeAgentRuntimeForUser` on the runtime for the calling credentials.
   */
  send_runtime_user_id: z
    .boolean({
      error:
        "must be true or false: true sends each person's opaque id as runtimeUserId (the credentials then need bedrock-agentcore:InvokeAgentRuntimeForUser)",
    })
    .default(false),
  /**
   * The JSON the agent receives, with "{{input}}" and "{{session_id}}" where the person's
   * message and the session's id go; `{ "prompt": "{{input}}" }` when absent.
   */
  payload: z
    .record(z.string(), z.unknown(), {
      error:
        'must be a JSON object with "{{input}}" where the message goes, such as { "prompt": "{{input}}" }',
    })
    .refine((value) => JSON.stringify(value).includes("{{input}}"), {
      message: 'must contain "{{input}}" where the person\'s message goes',
    })
    .default({ prompt: "{{input}}" }),
  /**
   * The agent runtime's LifecycleConfiguration: a session idle this long, or alive this long,
   * has been ended by AgentCore, so the next turn starts a new one primed with the transcript.
   */
  idle_timeout_seconds: z
    .number({ error: "must be the runtime's idleRuntimeSessionTimeout, in seconds" })
    .int("must be a whole number of seconds")
    .min(60, "must be at least 60 seconds, as AgentCore allows")
    .default(900),
  max_lifetime_seconds: z
    .number({ error: "must be the runtime's maxLifetime, in seconds" })
    .int("must be a whole number of seconds")
    .min(60, "must be at least 60 seconds, as AgentCore allows")
    .default(28_800),
  /**
   * What one second of this agent's compute costs, in USD: AgentCore bills vCPU and memory
   * per second and reports neither, so each turn is booked as an estimate from its duration.
   */
  usd_per_second: z
    .number({
      error:
        "must be the price of one second of this agent's compute in USD (e.g. 0.00003 for 1 vCPU and 2 GB at list price); AgentCore does not report cost",
    })
    .positive("must be more than 0: AgentCore compute is never free"),
  timeout_seconds: timeoutSeconds,
});
export type BedrockAgentCoreSettings = z.output<typeof bedrockAgentCoreSettings>;
