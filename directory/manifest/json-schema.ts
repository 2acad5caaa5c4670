import { z } from "zod";
import { agentManifestSchema } from "./schema.js";

let cached: Record<string, unknown> | undefined;

/**
 * The manifest's JSON Schema (draft 2020-12), made from the zod schema so the two never
 * disagree. Editors use it for completion (`# yaml-language-server: $schema=…`); the API
 * serves it at /api/v1/manifest-schema. The secret rule is a refinement, so it is stated in
 * the runtime's description rather than in the schema.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  cached ??= {
    ...z.toJSONSchema(agentManifestSchema, { io: "input", target: "draft-2020-12" }),
    $id: "urn:switchboard:agent-manifest:v1",
    title: "Switchboard agent manifest",
  };
  return cached;
}
