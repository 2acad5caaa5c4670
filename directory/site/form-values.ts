/** Values from a query string or a form, as the site's routes take them. */

/** The first value, trimmed and cut to `max` characters; undefined when empty. */
export function one(value: unknown, max = 200): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === "string" && text.trim() !== "" ? text.trim().slice(0, max) : undefined;
}

/** Only same-site paths, so no sign-in can be made to send someone elsewhere after it. */
export function localPath(value: unknown): string {
  const path = one(value, 2000);
  return path?.startsWith("/") && !path.startsWith("//") && !path.startsWith("/\\") ? path : "/";
}
