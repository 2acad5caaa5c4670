import { defineRuntimeContract } from "./contract.js";
import { e2bFixture } from "./e2b-fixture.js";

defineRuntimeContract("e2b", e2bFixture);
