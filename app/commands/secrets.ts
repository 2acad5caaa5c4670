import { type CliContext, formatTable, type Print } from "./cli-context.js";

/**
 * `switchboard secrets …`: the secret store, as its operator. Values are read from stdin,
 * never from arguments (which `ps` shows to everyone on the machine), and never printed.
 */

const cli = { kind: "system", name: "cli" } as const;

/** Creates or updates a secret with the value from the caller's stdin. */
export async function secretsSet(
  ctx: CliContext,
  name: string,
  options: { owner?: string | undefined; description?: string | undefined },
): Promise<number> {
  const { print } = ctx;
  await ctx.withSecrets(async (secrets) => {
    const value = await ctx.readStdin();
    const change = await secrets.put(cli, name, {
      value,
      owner: options.owner,
      description: options.description,
    });
    print(
      `${change.outcome.padEnd(9)} ${change.secret.name} (version ${change.secret.version}, owner ${change.secret.owner})`,
    );
  });
  return 0;
}

export async function secretsList(ctx: CliContext): Promise<number> {
  const { print } = ctx;
  await ctx.withSecrets(async (secrets) => {
    const list = await secrets.list(cli);
    if (list.length === 0) {
      print("No secrets yet. Make one with `switchboard secrets set NAME --owner user:EMAIL`.");
      return;
    }
    const rows = [["NAME", "OWNER", "VERSION", "KEY", "AGENTS", "UPDATED"]];
    for (const secret of list) {
      rows.push([
        secret.name,
        secret.owner,
        String(secret.version),
        secret.keyId,
        secret.agents.join(",") || "-",
        `${secret.updatedAt.toISOString().slice(0, 16)} ${secret.updatedBy}`,
      ]);
    }
    for (const line of formatTable(rows)) print(line);
  });
  return 0;
}

export async function secretsGrant(
  ctx: CliContext,
  change: "grant" | "revoke",
  name: string,
  agent: string,
): Promise<number> {
  await ctx.withSecrets(async (secrets) => {
    const secret =
      change === "grant"
        ? await secrets.grant(cli, name, agent)
        : await secrets.revoke(cli, name, agent);
    ctx.print(
      `${change === "grant" ? "granted" : "revoked"}  ${secret.name} ${change === "grant" ? "to" : "from"} ${agent}`,
    );
  });
  return 0;
}

export async function secretsDelete(ctx: CliContext, name: string): Promise<number> {
  const deleted = await ctx.withSecrets((secrets) => secrets.remove(cli, name));
  ctx.print(`deleted  ${deleted}`);
  return 0;
}

/** Re-wraps every data key under the first key; 1 when some could not be (their names printed). */
export async function secretsRotate(
  ctx: CliContext,
  options: { batchSize: number },
): Promise<number> {
  const { print, printError } = ctx;
  return ctx.withSecrets(async (secrets) => {
    const report = await secrets.rotate(cli, options);
    print(
      `${report.rewrapped} data key${report.rewrapped === 1 ? "" : "s"} re-wrapped under "${report.currentKeyId}".`,
    );
    for (const failure of report.failed) printError(`${failure.name}: ${failure.reason}`);
    if (report.failed.length > 0) {
      printError(
        `${report.failed.length} secret(s) could not be re-wrapped; keep the keys they need until they are.`,
      );
      return 1;
    }
    print("Every secret is under the current key; keys listed after it may be removed.");
    return 0;
  });
}

/** The value from stdin: typed without echo at a terminal, or piped (one final newline dropped). */
export async function readValueFromStdin(
  stdin: NodeJS.ReadStream = process.stdin,
  prompt: Print = (text) => process.stderr.write(text),
): Promise<string> {
  if (stdin.isTTY) return readHidden(stdin, prompt);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

function readHidden(stdin: NodeJS.ReadStream, prompt: Print): Promise<string> {
  prompt("Value (not shown as you type; Enter ends it): ");
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let value = "";
    const onData = (text: string) => {
      for (const char of text) {
        if (char === "\r" || char === "\n" || char === "\u0004") return done();
        if (char === "\u0003") return done(new Error("cancelled"));
        if (char === "\u007f") value = value.slice(0, -1);
        else value += char;
      }
    };
    const done = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      prompt("\n");
      if (error) reject(error);
      else resolve(value);
    };
    stdin.on("data", onData);
  });
}
