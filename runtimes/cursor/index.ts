/** Cursor's Cloud Agents API v1: a Cursor agent per session, a run per turn. */
export { CursorRuntime } from "./cursor-runtime.js";
export { type CursorSettings, cursorSettings } from "./settings.js";
