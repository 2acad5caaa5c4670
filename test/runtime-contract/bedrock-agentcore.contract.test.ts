import { agentCoreJsonFixture, agentCoreStreamingFixture } from "./bedrock-agentcore-fixture.js";
import { defineRuntimeContract } from "./contract.js";

defineRuntimeContract("bedrock-agentcore", agentCoreStreamingFixture);
defineRuntimeContract("bedrock-agentcore json", agentCoreJsonFixture);
