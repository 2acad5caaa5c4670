import { z } from "zod";
import { badRequest } from "../core/index.js";
import type { SecretRecord } from "./store/secret-store.js";

/** A secret as its owner sees it: metadata and who may use it, never the value. */
export interface SecretSummary extends SecretRecord {
  /** Names of the agents granted it. */
  agents: string[];
}

/** What `PUT /secrets/{name}`, the site's form and `secrets set` send. */
export const secretWriteSchema = z.strictObject({
  value: z.string().optional().describe("The value; required to create. Never shown again."),
  owner: z.string().optional().describe("user:EMAIL or team:SLUG; required to create."),
  description: z.string().max(500).optional().describe("What the secret is for."),
});
export type SecretWrite = z.output<typeof secretWriteSchema>;

export interface SecretChange {
  outcome: "created" | "updated";
  secret: SecretSummary;
}

/** The write, or a 400 saying what is wrong with it (never repeating the value). */
export function parseSecretWrite(body: unknown): SecretWrite {
  const parsed = secretWriteSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
  throw badRequest(`The secret is not valid: ${problems.join("; ")}`);
}
