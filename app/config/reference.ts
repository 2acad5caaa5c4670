import { z } from "zod";
import { configSchema } from "./schema.js";

function defaultOf(schema: z.ZodType): string {
  if (schema instanceof z.ZodDefault) {
    const value: unknown = schema.def.defaultValue;
    if (Array.isArray(value)) return value.length === 0 ? "(none)" : value.join(",");
    return `\`${String(value)}\``;
  }
  return "(unset)";
}

/** The README's configuration table, made from the schema so the two cannot drift apart. */
export function configReferenceTable(): string {
  const rows = Object.entries(configSchema.shape).map(([name, schema]) => {
    const description = (schema as z.ZodType).description ?? "";
    return `| \`${name}\` | ${defaultOf(schema as z.ZodType)} | ${description} |`;
  });
  return ["| Variable | Default | What it does |", "| --- | --- | --- |", ...rows].join("\n");
}
