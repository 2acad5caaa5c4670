/** The Bedrock AgentCore runtime: agents on Amazon Bedrock AgentCore Runtime (InvokeAgentRuntime). */
export { BedrockAgentCoreRuntime, COMPUTE_MODEL } from "./bedrock-agentcore-runtime.js";
export { type BedrockAgentCoreSettings, bedrockAgentCoreSettings } from "./settings.js";
