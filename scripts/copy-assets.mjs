// Copies the files the compiled build reads at run time (not TypeScript) into the build
// folder: `node scripts/copy-assets.mjs OUT_DIR` (npm run build passes dist).
import { cpSync } from "node:fs";
import { join } from "node:path";

const outDir = process.argv[2] ?? "dist";
for (const asset of ["authz/model.fga", "directory/site/assets"]) {
  cpSync(asset, join(outDir, asset), { recursive: true });
}
