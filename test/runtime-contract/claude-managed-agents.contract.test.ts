import { claudeManagedAgentsFixture } from "./claude-managed-agents-fixture.js";
import { defineRuntimeContract } from "./contract.js";

defineRuntimeContract("claude-managed-agents", claudeManagedAgentsFixture);
