import { defineRuntimeContract } from "./contract.js";
import { daytonaFixture } from "./daytona-fixture.js";

defineRuntimeContract("daytona", daytonaFixture);
