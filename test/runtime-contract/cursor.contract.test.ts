import { defineRuntimeContract } from "./contract.js";
import { cursorFixture } from "./cursor-fixture.js";

defineRuntimeContract("cursor", cursorFixture);
