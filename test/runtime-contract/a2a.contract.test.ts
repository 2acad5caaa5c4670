import { a2aFixture, a2aV03Fixture } from "./a2a-fixture.js";
import { defineRuntimeContract } from "./contract.js";

defineRuntimeContract("a2a 1.0 (streaming)", a2aFixture);
defineRuntimeContract("a2a 0.3 (message/send)", a2aV03Fixture);
