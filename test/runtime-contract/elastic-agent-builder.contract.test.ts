import { defineRuntimeContract } from "./contract.js";
import { elasticAgentBuilderFixture } from "./elastic-agent-builder-fixture.js";

defineRuntimeContract("elastic-agent-builder", elasticAgentBuilderFixture);
