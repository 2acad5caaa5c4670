/**
 * One `AgentRuntime` interface and an adapter per runtime (A2A, Claude Managed Agents,
 * n8n, plain HTTP, the built-in demo, and later Bedrock AgentCore, Cursor, E2B, Daytona).
 * Knows nothing of Switchboard's other modules but their types.
 *
 * Its public API is exported from here as it is built.
 */
export {};
