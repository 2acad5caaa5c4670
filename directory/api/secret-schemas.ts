import { z } from "zod";
import type { SecretSummary } from "../../secrets/index.js";

/** The secret store's wire shapes: metadata only; no shape here has room for a value. */

const timestamp = z.string().describe("ISO 8601 date and time, UTC");

export const secretNameParams = z.object({
  name: z.string().max(200).describe("The secret's name (any case; stored lower case)"),
});

export const secretGrantParams = secretNameParams.extend({
  agent: z.string().max(200).describe("The agent's slug"),
});

export const secretDetail = z.object({
  name: z.string(),
  owner: z.string().describe("user:EMAIL or team:SLUG"),
  description: z.string(),
  version: z.number().int().describe("1 for the first value, one more for each new one"),
  agents: z.array(z.string()).describe("The agents whose runs may use it"),
  created_by: z.string(),
  created_at: timestamp,
  updated_by: z.string(),
  updated_at: timestamp,
});

export const secretList = z.object({ items: z.array(secretDetail) });

export const secretChange = z.object({
  outcome: z.enum(["created", "updated"]),
  secret: secretDetail,
});

export function presentSecret(secret: SecretSummary): z.infer<typeof secretDetail> {
  return {
    name: secret.name,
    owner: secret.owner,
    description: secret.description,
    version: secret.version,
    agents: secret.agents,
    created_by: secret.createdBy,
    created_at: secret.createdAt.toISOString(),
    updated_by: secret.updatedBy,
    updated_at: secret.updatedAt.toISOString(),
  };
}
