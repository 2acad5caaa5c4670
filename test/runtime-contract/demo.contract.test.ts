import { defineRuntimeContract } from "./contract.js";
import { demoFixture } from "./demo-fixture.js";

defineRuntimeContract("demo", demoFixture);
