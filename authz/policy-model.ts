import { readFileSync } from "node:fs";

/** Switchboard's policy, authz/model.fga, as DSL text (read from beside this file, in sources and in the build). */
export function loadPolicyModel(): string {
  return readFileSync(new URL("./model.fga", import.meta.url), "utf8");
}
