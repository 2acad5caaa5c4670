/**
 * POSIX shell quoting: every value a harness puts on a command line (the person's input,
 * paths, model names) goes through `quote`, so nothing in it is read as shell syntax.
 */
export function quote(value: string): string {
  if (value === "") return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/** An argv as one command line, each word quoted. */
export function commandLine(argv: readonly string[]): string {
  return argv.map(quote).join(" ");
}

/** A name an environment variable may have (and so may be exported by a shell). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `export NAME='value'` lines, for a file the command sources and deletes before it runs. */
export function exportLines(envs: Record<string, string>): string {
  return Object.entries(envs)
    .map(([name, value]) => {
      if (!ENV_NAME.test(name)) throw new Error(`"${name}" is not an environment variable name`);
      return `export ${name}=${quote(value)}\n`;
    })
    .join("");
}
