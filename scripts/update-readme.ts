// Rewrites the README's configuration table from the schema: `npm run docs`.
import { readFileSync, writeFileSync } from "node:fs";
import { configReferenceTable } from "../app/config/index.js";

const path = new URL("../README.md", import.meta.url);
const readme = readFileSync(path, "utf8");
const updated = readme.replace(
  /(<!-- config:start[^>]*-->\n)[\s\S]*?(\n<!-- config:end -->)/,
  (_match, start: string, end: string) => `${start}${configReferenceTable()}${end}`,
);
writeFileSync(path, updated);
