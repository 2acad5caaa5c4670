#!/usr/bin/env node
// Runs the TypeScript sources directly (through tsx), so `npx switchboard` works right
// after `npm install` with no build step. The container image runs the compiled build.
import { register } from "tsx/esm/api";

register();
await import("../app/main.ts");
