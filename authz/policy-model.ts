import { readFileSync } from "node:fs";
import { compileModel } from "./embedded/index.js";

/** Switchboard's policy, authz/model.fga, as DSL text (read from beside this file, in sources and in the build). */
export function loadPolicyModel(): string {
  return readFileSync(new URL("./model.fga", import.meta.url), "utf8");
}

/**
 * Where the model lets an object of `userType` be the user of a tuple: `{ objectType:
 * "secret" }` for `define user_agent: [agent]` on `secret`, with `userset` set for
 * `[agent#member]`-style restrictions. What to read, object type by object type, to find
 * every tuple that names one such object as its user (an OpenFGA server reads by user only
 * together with an object type).
 */
export function userPlacesOf(
  userType: string,
  modelDsl: string = loadPolicyModel(),
): { objectType: string; userset?: string }[] {
  const places = new Map<string, { objectType: string; userset?: string }>();
  for (const type of compileModel(modelDsl).types.values()) {
    for (const relation of type.relations.values()) {
      if (relation.allowed.objectTypes.has(userType)) {
        places.set(type.name, { objectType: type.name });
      }
      for (const userset of relation.allowed.usersetTypes) {
        const [usersetType, usersetRelation] = userset.split("#");
        if (usersetType === userType && usersetRelation) {
          places.set(`${type.name}#${usersetRelation}`, {
            objectType: type.name,
            userset: usersetRelation,
          });
        }
      }
    }
  }
  return [...places.values()];
}
