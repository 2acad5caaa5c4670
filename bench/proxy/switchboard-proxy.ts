import pino from "pino";
import { migrateLatest, openDatabase } from "../../app/db/index.js";
import { issueProxyKey, parseProxyConfig, startProxy } from "../../proxy/index.js";

/**
 * Switchboard's proxy as the bench runs it: its own process, one model group on the bench
 * upstream, and — when a PostgreSQL URL is given — a virtual key from the database and
 * spend written to the ledger, as in production. Without one, the master key.
 */

const [portArg, upstream, databaseUrl] = process.argv.slice(2);
const MASTER = "sk-bench-master";

const settings = parseProxyConfig(
  {
    model_list: [
      {
        model_name: "gpt-4o",
        litellm_params: { model: "openai/gpt-4o", api_base: `${upstream}/v1`, api_key: "upstream" },
      },
      {
        model_name: "hold",
        litellm_params: { model: "openai/hold", api_base: `${upstream}/v1`, api_key: "upstream" },
      },
    ],
    general_settings: { master_key: MASTER, max_request_size_mb: 4 },
  },
  { env: {} },
);

const db = databaseUrl ? await openDatabase({ url: databaseUrl, dataDir: "" }) : undefined;
let key = MASTER;
if (db) {
  await migrateLatest(db);
  key = (await issueProxyKey(db.knex, { name: "bench" })).key;
}
const running = await startProxy({
  settings,
  port: Number(portArg),
  knex: db?.knex,
  logger: pino({ level: "warn" }),
});
process.stdout.write(`READY ${running.url} ${key}\n`);
process.on("SIGTERM", () => {
  void running
    .close()
    .then(() => db?.close())
    .then(() => process.exit(0));
});
