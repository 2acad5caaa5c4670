import { userInfo } from "node:os";
import { Command, CommanderError, type OutputConfiguration } from "commander";
import { ProxyConfigError } from "../proxy/index.js";
import { NoRouteError, routeCommand, sendCommand } from "./admin-socket/index.js";
import {
  agentsApply,
  agentsList,
  agentsSetFeatured,
  agentsSetState,
  agentsShow,
  agentsValidate,
} from "./commands/agents.js";
import { authzCheck, authzGrant, authzList, authzTest } from "./commands/authz.js";
import { budgetsDelete, budgetsList, budgetsSet } from "./commands/budgets.js";
import { type CliContext, directCliContext } from "./commands/cli-context.js";
import { keysCreate, keysList, keysRevoke } from "./commands/keys.js";
import { migrate } from "./commands/migrate.js";
import { proxy } from "./commands/proxy.js";
import {
  readValueFromStdin,
  secretsDelete,
  secretsGrant,
  secretsList,
  secretsRotate,
  secretsSet,
} from "./commands/secrets.js";
import { serve } from "./commands/serve.js";
import { sessionsList, sessionsRevoke } from "./commands/sessions.js";
import { teamsPackage } from "./commands/teams.js";
import { worker } from "./commands/worker.js";
import { type Config, ConfigError, loadConfig } from "./config/index.js";

/**
 * The `switchboard` command. Each subcommand reads the configuration once, with its own
 * flags taking the place of the matching variables, and validates it before doing anything.
 *
 * The commands that work on the database (agents, keys, authz, budgets, secrets, sessions)
 * run through a CliHost: in this process, or, when a running `switchboard serve` holds the
 * embedded database, inside that server over its admin socket (see app/admin-socket). The
 * same handlers run either way; only their context differs.
 */

type Work = (ctx: CliContext) => Promise<number>;

export interface CliHost {
  /** Runs a command that works on the database: here, or in the server that holds it. */
  database(work: Work): Promise<void>;
  /** Runs a command that needs no database (validating files), here. */
  local(work: Work): Promise<void>;
}

function configWith(program: Command, overrides: Record<string, string | undefined>): Config {
  const { configFile } = program.opts<{ configFile?: string }>();
  const env = { ...process.env };
  for (const [name, value] of Object.entries(overrides)) if (value !== undefined) env[name] = value;
  return loadConfig(env, configFile ?? env.SWITCHBOARD_CONFIG_FILE);
}

/**
 * The program. `hostFor` says where database commands run (by default: this process, or the
 * running server); `output`, when given, takes commander's own output (usage, errors) and
 * makes its errors throw instead of exiting, as inside the server.
 */
export function buildCli(
  hostFor: (program: Command) => CliHost = (program) => directHost(program, process.argv.slice(2)),
  output?: Pick<OutputConfiguration, "writeOut" | "writeErr">,
): Command {
  const program = new Command("switchboard");
  // Set before the subcommands are added: they inherit both.
  if (output) program.exitOverride().configureOutput(output);
  program
    .description("Find, run and govern a company's AI agents, whatever runtime each lives on.")
    .option(
      "--config-file <path>",
      "YAML or JSON file of settings (VARIABLE: value); the environment wins over it",
    )
    .showHelpAfterError("(run with --help for usage)");
  const host = hostFor(program);

  program
    .command("serve")
    .description(
      "Run the HTTP server: directory site, REST API, Slack and Teams endpoints. Without REDIS_URL it also runs the worker in-process.",
    )
    .option("-p, --port <port>", "port to listen on (overrides PORT)")
    .option("--host <host>", "address to bind (overrides HOST)")
    .option("--no-migrate", "do not apply pending database migrations at start")
    .option(
      "--proxy-config <file>",
      "also run the model proxy in this process, with this routing config",
    )
    .option("--proxy-port <port>", "port of the in-process model proxy", "4000")
    .action(
      async (options: {
        port?: string;
        host?: string;
        migrate: boolean;
        proxyConfig?: string;
        proxyPort: string;
      }) => {
        const config = configWith(program, { PORT: options.port, HOST: options.host });
        const proxyPort = configWith(program, { PORT: options.proxyPort }).PORT;
        await serve(config, {
          migrate: options.migrate,
          proxyConfigFile: options.proxyConfig,
          proxyPort,
          cliCommands: runServedCommand,
        });
      },
    );

  program
    .command("worker")
    .description(
      "Run queued agent runs from Redis (REDIS_URL) in a process of its own; start as many as load needs.",
    )
    .option("-p, --port <port>", "serve /healthz, /readyz and /metrics on this port")
    .option("--no-migrate", "do not apply pending database migrations at start")
    .action(async (options: { port?: string; migrate: boolean }) => {
      const config = configWith(program, {});
      const port =
        options.port === undefined ? undefined : configWith(program, { PORT: options.port }).PORT;
      await worker(config, { migrate: options.migrate, port });
    });

  program
    .command("proxy")
    .description(
      "Run the model proxy: an OpenAI- and Anthropic-compatible gateway for the model calls agents make.",
    )
    .requiredOption("--config <file>", "routing configuration (LiteLLM-style config.yaml)")
    .option("-p, --port <port>", "port to listen on", "4000")
    .option("--no-migrate", "do not apply pending database migrations at start")
    .action(async (options: { config: string; port: string; migrate: boolean }) => {
      const config = configWith(program, {});
      const port = configWith(program, { PORT: options.port }).PORT;
      await proxy(config, { configFile: options.config, port, migrate: options.migrate });
    });

  program
    .command("migrate")
    .description("Apply (up), revert (down) or list (status) database migrations.")
    .argument("[direction]", "up, down or status", "up")
    .option("--all", "with down: revert every migration, not just the last batch", false)
    .action(async (direction: string, options: { all: boolean }) => {
      if (direction !== "up" && direction !== "down" && direction !== "status") {
        program.error(
          `switchboard migrate: unknown direction "${direction}"; use up, down or status.`,
          {
            exitCode: 2,
          },
        );
      }
      await migrate(configWith(program, {}), direction as "up" | "down" | "status", options);
    });

  const authz = program
    .command("authz")
    .description("Test the authorization policy, and grant, revoke, check and list access.");
  authz
    .command("test")
    .description(
      "Run OpenFGA conformance files or store test files (.fga.yaml) against the configured backend; ends with `N passed, N failed`.",
    )
    .argument("<file...>", "files to run")
    .action(async (files: string[]) => {
      await host.local(async (ctx) => ((await authzTest(ctx, files)) > 0 ? 1 : 0));
    });
  for (const change of ["grant", "revoke"] as const) {
    authz
      .command(change)
      .description(
        `${change === "grant" ? "Grant" : "Revoke"} a relation: e.g. ${change} ada@example.com runner agent:triage`,
      )
      .argument("<user>", "an email, or a subject such as team:platform#member or user:*")
      .argument("<relation>", "e.g. viewer, runner, editor, owner, member, admin")
      .argument("<object>", "e.g. agent:triage or team:platform")
      .action(async (user: string, relation: string, object: string) => {
        await host.database((ctx) => authzGrant(ctx, change, { user, relation, object }));
      });
  }
  authz
    .command("check")
    .description(
      "Print allowed or denied (exit status 0 or 1): e.g. check ada@example.com runner agent:triage",
    )
    .argument("<user>", "an email, or a subject such as user:*")
    .argument("<relation>", "the relation to check")
    .argument("<object>", "e.g. agent:triage")
    .action(async (user: string, relation: string, object: string) => {
      await host.database((ctx) => authzCheck(ctx, { user, relation, object }));
    });
  authz
    .command("list")
    .description(
      "List the objects of a type on which a user has a relation: e.g. list ada@example.com runner agent",
    )
    .argument("<user>", "an email, or a subject")
    .argument("<relation>", "the relation")
    .argument("<type>", "the object type, e.g. agent")
    .action(async (user: string, relation: string, type: string) => {
      await host.database((ctx) => authzList(ctx, { user, relation, type }));
    });

  addDirectoryCommands(program, host);
  addSecretCommands(program, host);
  program
    .command("teams")
    .description("The Microsoft Teams app")
    .command("package")
    .description(
      "Write the Teams app package (manifest and icons) for TEAMS_APP_ID and PUBLIC_URL, to upload in Teams admin",
    )
    .requiredOption("--out <file>", "the .zip to write")
    .action((options: { out: string }) => {
      const code = teamsPackage(configWith(program, {}), options.out);
      if (code !== 0) process.exitCode = code;
    });
  return program;
}

/** `switchboard agents …`, `switchboard keys …` and `switchboard sessions …`: the directory, as its operator. */
function addDirectoryCommands(program: Command, host: CliHost): void {
  const agents = program
    .command("agents")
    .description("Register agents from manifests, and list, show, suspend or disable them.");
  agents
    .command("apply")
    .description(
      "Create or update agents from manifest files or folders; prints what changed. Nothing is applied if any manifest is invalid.",
    )
    .argument("<path...>", "manifest files (.yaml, .yml, .json) or folders of them")
    .option("--prune", "retire agents that are not in these files", false)
    .option("--dry-run", "say what would change, change nothing", false)
    .action(async (paths: string[], options: { prune: boolean; dryRun: boolean }) => {
      await host.database((ctx) => agentsApply(ctx, paths, options));
    });
  agents
    .command("validate")
    .description("Check manifests without applying them; problems name the file, line and field.")
    .argument("<path...>", "manifest files or folders")
    .action(async (paths: string[]) => {
      await host.local((ctx) => agentsValidate(ctx, paths));
    });
  agents
    .command("list")
    .description("List every registered agent, whatever its state.")
    .option("--search <text>", "only agents whose name, title, description or tags match")
    .action(async (options: { search?: string }) => {
      await host.database((ctx) => agentsList(ctx, options));
    });
  agents
    .command("show")
    .description("Print an agent's state and manifest.")
    .argument("<name>", "the agent's name")
    .action(async (name: string) => {
      await host.database((ctx) => agentsShow(ctx, name));
    });
  for (const [verb, state, what] of [
    ["enable", "enabled", "Let people find and run an agent again."],
    ["suspend", "suspended", "Keep an agent listed, with a notice, but stop it from running."],
    ["disable", "disabled", "Take an agent out of the catalog and stop it from running."],
  ] as const) {
    agents
      .command(verb)
      .description(what)
      .argument("<name>", "the agent's name")
      .option("--reason <text>", "shown to people who find the agent")
      .action(async (name: string, options: { reason?: string }) => {
        await host.database((ctx) => agentsSetState(ctx, name, state, options.reason));
      });
  }
  for (const [verb, featured, what] of [
    [
      "feature",
      true,
      "Offer agents to everyone who may run them: in chat, naming one picks it, as for agents a person already uses.",
    ],
    ["unfeature", false, "Stop featuring agents."],
  ] as const) {
    agents
      .command(verb)
      .description(what)
      .argument("<name...>", "the agents' names")
      .action(async (names: string[]) => {
        await host.database((ctx) => agentsSetFeatured(ctx, names, featured));
      });
  }

  const keys = program.command("keys").description("Make, list and revoke REST API keys.");
  keys
    .command("create")
    .description(
      "Make an API key acting as a user; the key is printed once, alone on the last line.",
    )
    .requiredOption("--user <email>", "the person the key acts as")
    .option("--name <label>", "a label to tell keys apart")
    .action(async (options: { user: string; name?: string }) => {
      await host.database((ctx) => keysCreate(ctx, options));
    });
  keys
    .command("list")
    .description("List API keys (never the keys themselves).")
    .action(async () => {
      await host.database((ctx) => keysList(ctx));
    });
  keys
    .command("revoke")
    .description("Revoke an API key by its id; requests with it are refused from then on.")
    .argument("<id>", "the key's id, from keys list")
    .action(async (id: string) => {
      await host.database((ctx) => keysRevoke(ctx, id));
    });

  const budgets = program
    .command("budgets")
    .description("Set, list and delete budgets (hard, approval or notify), as the operator.");
  budgets
    .command("set")
    .description(
      "Set the budget of a scope for a period (again: replace its amount and mode). Audited.",
    )
    .argument("<scope>", "team:SLUG, agent:NAME, user:EMAIL or platform")
    .requiredOption("--period <period>", "day, week or month (UTC), or none")
    .requiredOption("--amount <usd>", "the amount in US dollars")
    .requiredOption(
      "--mode <mode>",
      "hard (refuse runs over it), approval (an approver decides) or notify (warn)",
    )
    .option("--thresholds <percents>", "notify: percentages to warn at, e.g. 50,80,100")
    .action(
      async (
        scope: string,
        options: { period: string; amount: string; mode: string; thresholds?: string },
      ) => {
        await host.database((ctx) => budgetsSet(ctx, scope, options));
      },
    );
  budgets
    .command("list")
    .description("List budgets with what is spent and held by runs in progress this period.")
    .action(async () => {
      await host.database((ctx) => budgetsList(ctx));
    });
  budgets
    .command("delete")
    .description("Delete a budget by its id. Audited.")
    .argument("<id>", "the budget's id, from budgets list")
    .action(async (id: string) => {
      await host.database((ctx) => budgetsDelete(ctx, id));
    });

  const sessions = program
    .command("sessions")
    .description("List and end people's signed-in sessions on the directory site.");
  sessions
    .command("list")
    .description("List signed-in sessions, most recently seen first (never their tokens).")
    .option("--user <email>", "only this person's sessions")
    .action(async (options: { user?: string }) => {
      await host.database((ctx) => sessionsList(ctx, options));
    });
  sessions
    .command("revoke")
    .description(
      "End a session by its id, or every session of --user: the browser is signed out at its next request. Audited.",
    )
    .argument("[id]", "the session's id, from sessions list")
    .option("--user <email>", "end every session of this person")
    .action(async (id: string | undefined, options: { user?: string }) => {
      await host.database((ctx) => sessionsRevoke(ctx, { id, user: options.user }));
    });
}

/** `switchboard secrets …`: the secret store, as its operator. */
function addSecretCommands(program: Command, host: CliHost): void {
  const secrets = program
    .command("secrets")
    .description(
      "Keep agents' credentials in the encrypted secret store, grant them to agents, rotate its keys.",
    );
  secrets
    .command("set")
    .description(
      "Create a secret or give it a new value, read from stdin (never from the command line): e.g. `switchboard secrets set triage-key --owner team:support < key.txt`.",
    )
    .argument("<name>", "the secret's name, as manifests refer to it: { secret: NAME }")
    .option("--owner <owner>", "user:EMAIL or team:SLUG (required to create)")
    .option("--description <text>", "what the secret is for")
    .action(async (name: string, options: { owner?: string; description?: string }) => {
      await host.database((ctx) => secretsSet(ctx, name, options));
    });
  secrets
    .command("list")
    .description("List every secret: name, owner, version, key and agents (never the values).")
    .action(async () => {
      await host.database((ctx) => secretsList(ctx));
    });
  for (const change of ["grant", "revoke"] as const) {
    secrets
      .command(change)
      .description(
        change === "grant"
          ? "Let an agent's runs use a secret."
          : "Stop an agent's runs from using a secret, from their next runtime call.",
      )
      .argument("<name>", "the secret")
      .argument("<agent>", "the agent's name")
      .action(async (name: string, agent: string) => {
        await host.database((ctx) => secretsGrant(ctx, change, name, agent));
      });
  }
  secrets
    .command("delete")
    .description("Delete a secret and every grant of it.")
    .argument("<name>", "the secret")
    .action(async (name: string) => {
      await host.database((ctx) => secretsDelete(ctx, name));
    });
  secrets
    .command("rotate")
    .description(
      "Re-wrap every data key under the first key of SECRETS_KEYS; safe while Switchboard runs, and again.",
    )
    .option("--batch-size <n>", "secrets re-wrapped per batch", "100")
    .action(async (options: { batchSize: string }) => {
      const batchSize = Number(options.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        program.error(
          "switchboard secrets rotate: --batch-size must be a whole number, 1 or more.",
          {
            exitCode: 2,
          },
        );
      }
      await host.database((ctx) => secretsRotate(ctx, { batchSize }));
    });
}

/**
 * Database commands in this process, unless a live `switchboard serve` holds the embedded
 * database: then they go to it over its admin socket, with this command line, folder and stdin.
 */
function directHost(program: Command, argv: readonly string[]): CliHost {
  const io = {
    print: (line: string) => console.log(line),
    printError: (line: string) => console.error(line),
    readStdin: () => readValueFromStdin(),
  };
  const finish = (code: number) => {
    if (code !== 0) process.exitCode = code;
  };
  return {
    async local(work) {
      finish(await work(directCliContext(configWith(program, {}), io)));
    },
    async database(work) {
      const config = configWith(program, {});
      const route = config.DATABASE_URL
        ? ({ kind: "direct" } as const)
        : await routeCommand(config.SWITCHBOARD_DATA_DIR);
      if (route.kind === "direct") return finish(await work(directCliContext(config, io)));
      const request = { argv: [...argv], cwd: process.cwd(), user: osUser() };
      finish(
        await sendCommand(route, request, {
          stdout: (text) => process.stdout.write(text),
          stderr: (text) => process.stderr.write(text),
          readStdin: io.readStdin,
        }),
      );
    },
  };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.()}`;
  }
}

/** The commands a running server takes over its admin socket: those that work on its database. */
const SERVED_COMMANDS = new Set(["agents", "keys", "authz", "budgets", "secrets", "sessions"]);

/** Why the server will not run this command line, in words; undefined when it will. */
function servedRefusal(argv: readonly string[]): string | undefined {
  const word = argv.find((arg, i) => !arg.startsWith("-") && argv[i - 1] !== "--config-file");
  if (word !== undefined && SERVED_COMMANDS.has(word)) return undefined;
  if (word === "serve" || word === "worker" || word === "proxy") {
    return (
      `switchboard: \`switchboard ${word}\` starts a process of its own and does not run inside the running server. ` +
      "The embedded database serves one process: stop the server first, or set DATABASE_URL to PostgreSQL to run several."
    );
  }
  if (word === "migrate") {
    return (
      "switchboard: `switchboard migrate` does not run inside the running server, which applied pending migrations when it started. " +
      "To revert migrations or see their status, stop the server first."
    );
  }
  return `switchboard: the running server takes only ${[...SERVED_COMMANDS].join(", ")} commands${word ? `, not \`${word.slice(0, 40)}\`` : ""}.`;
}

/**
 * One command line taken over the admin socket, run by the same handlers as in a process of
 * its own, on the server's open parts (`ctx`). Resolves to its exit status; nothing it does
 * may end or change the server process (commander's exits are turned into errors).
 */
export async function runServedCommand(argv: string[], ctx: CliContext): Promise<number> {
  const refusal = servedRefusal(argv);
  if (refusal) {
    ctx.printError(refusal);
    return 2;
  }
  let code = 0;
  const run = async (work: Work) => {
    code = await work(ctx);
  };
  const write = (print: (line: string) => void) => (text: string) => print(text.replace(/\n$/, ""));
  const program = buildCli(() => ({ database: run, local: run }), {
    writeOut: write(ctx.print),
    writeErr: write(ctx.printError),
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const failure = describeFailure(error);
    ctx.printError(failure.message);
    return failure.code;
  }
}

/** A command's failure as the person sees it: a bad setting exits 2, any other failure 1. */
function describeFailure(error: unknown): { message: string; code: number } {
  if (error instanceof ConfigError || error instanceof ProxyConfigError) {
    return { message: `switchboard: ${error.message}`, code: 2 };
  }
  return {
    message: `switchboard: ${error instanceof Error ? error.message : String(error)}`,
    code: 1,
  };
}

/** Runs the CLI; a bad setting exits 2 with the message naming it, any other failure exits 1. */
export async function runCli(argv: string[] = process.argv): Promise<void> {
  try {
    await buildCli((program) => directHost(program, argv.slice(2))).parseAsync(argv);
  } catch (error) {
    const failure = describeFailure(error);
    process.stderr.write(`${failure.message}\n`);
    if (
      process.env.LOG_LEVEL === "debug" &&
      failure.code === 1 &&
      error instanceof Error &&
      !(error instanceof NoRouteError)
    )
      process.stderr.write(`${error.stack}\n`);
    process.exit(failure.code);
  }
}
