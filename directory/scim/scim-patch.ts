import { invalidPath, invalidSyntax, invalidValue, ScimError } from "./scim-errors.js";
import { type AttrPath, type Filter, getAttr, keyOf, matches, parsePath } from "./scim-filter.js";

/**
 * PATCH (RFC 7644 §3.5.2) applied to a resource's JSON, the way identity providers send it:
 * Okta's `{"op":"replace","value":{"active":false}}` (no path, an object of attributes),
 * Entra's `{"op":"Replace","path":"active","value":"False"}` (capitalised ops; booleans as
 * strings, which the resource's own reader accepts), value-filtered paths
 * (`emails[type eq "work"].value`, `members[value eq "…"]`) and Entra's member removal with
 * a value list (`{"op":"Remove","path":"members","value":[{"value":"…"}]}`).
 */
export const PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const MAX_OPERATIONS = 1_000;

export type PatchOpName = "add" | "replace" | "remove";
export interface PatchOperation {
  op: PatchOpName;
  path?: AttrPath | undefined;
  value?: unknown;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  !!value && typeof value === "object" && !Array.isArray(value);

/** The body's operations, checked; throws SCIM's 400 for anything else. */
export function readPatch(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw invalidSyntax("Send a PatchOp JSON object.");
  const schemas = getAttr(body, "schemas");
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_SCHEMA)) {
    throw invalidSyntax(`A PATCH names the schema ${PATCH_SCHEMA}.`);
  }
  const operations = getAttr(body, "Operations");
  if (!Array.isArray(operations) || operations.length === 0) {
    throw invalidSyntax("A PATCH has a non-empty Operations list.");
  }
  if (operations.length > MAX_OPERATIONS) throw invalidValue("Too many operations in one PATCH.");
  return operations.map((operation) => {
    if (!isObject(operation)) throw invalidSyntax("Each operation is a JSON object.");
    const op = String(getAttr(operation, "op") ?? "").toLowerCase();
    if (op !== "add" && op !== "replace" && op !== "remove") {
      throw invalidSyntax('Each operation\'s "op" is add, replace or remove.');
    }
    const rawPath = getAttr(operation, "path");
    if (rawPath !== undefined && typeof rawPath !== "string") {
      throw invalidPath('An operation\'s "path" is a string.');
    }
    const path = rawPath ? parsePath(rawPath) : undefined;
    const value = getAttr(operation, "value");
    if (op === "remove" && !path) throw new ScimError(400, "A remove names a path.", "noTarget");
    if (op !== "remove" && value === undefined) throw invalidValue(`An ${op} has a value.`);
    return { op, path, value };
  });
}

/** The value filter's `attr eq "x"` pairs: what a new element must carry to match it. */
function equalities(filter: Filter): Json {
  if (filter.kind === "compare" && filter.op === "eq" && !filter.path.sub && !filter.path.filter) {
    return { [filter.path.attr]: filter.value };
  }
  if (filter.kind === "and") return { ...equalities(filter.left), ...equalities(filter.right) };
  return {};
}

function setAttr(object: Json, name: string, value: unknown): void {
  const key = keyOf(object, name) ?? name;
  if (value === null) delete object[key];
  else object[key] = value;
}

/** Elements of a multi-valued attribute equal by their `value` (members, emails). */
const sameValue = (a: unknown, b: unknown) =>
  isObject(a) && isObject(b) && getAttr(a, "value") !== undefined
    ? String(getAttr(a, "value")) === String(getAttr(b, "value"))
    : a === b;

function applyAt(resource: Json, op: PatchOpName, path: AttrPath, value: unknown): void {
  const key = keyOf(resource, path.attr) ?? path.attr;
  const current = resource[key];
  if (path.filter) {
    const filter = path.filter;
    const items = Array.isArray(current) ? [...current] : [];
    const hits = items.filter((item) => matches(filter, item));
    if (op === "remove") {
      resource[key] = path.sub
        ? items.map((item) => {
            if (!hits.includes(item)) return item;
            const copy = { ...(item as Json) };
            setAttr(copy, path.sub as string, null);
            return copy;
          })
        : items.filter((item) => !hits.includes(item));
      return;
    }
    if (hits.length === 0) {
      // Entra adds `emails[type eq "work"].value` to a person who has no work email yet.
      const fresh: Json = { ...equalities(filter) };
      if (path.sub) fresh[path.sub] = value;
      else if (isObject(value)) Object.assign(fresh, value);
      resource[key] = [...items, fresh];
      return;
    }
    resource[key] = items.map((item) => {
      if (!hits.includes(item)) return item;
      if (path.sub) {
        const copy = { ...(item as Json) };
        setAttr(copy, path.sub, value);
        return copy;
      }
      return isObject(value) ? { ...(item as Json), ...value } : value;
    });
    return;
  }
  if (path.sub) {
    const parent = isObject(current) ? { ...current } : {};
    if (op === "remove") setAttr(parent, path.sub, null);
    else setAttr(parent, path.sub, value);
    resource[key] = parent;
    return;
  }
  if (op === "remove") {
    if (Array.isArray(current) && Array.isArray(value)) {
      resource[key] = current.filter((item) => !value.some((gone) => sameValue(item, gone)));
    } else {
      delete resource[key];
    }
    return;
  }
  if (op === "add" && Array.isArray(current)) {
    const added = Array.isArray(value) ? value : [value];
    resource[key] = [
      ...current,
      ...added.filter((item) => !current.some((have) => sameValue(have, item))),
    ];
    return;
  }
  resource[key] = value;
}

/** The resource after the operations, as a new object; the input is left as it was. */
export function applyPatch(resource: Json, operations: readonly PatchOperation[]): Json {
  const result: Json = structuredClone(resource);
  for (const { op, path, value } of operations) {
    if (path) {
      applyAt(result, op, path, value);
      continue;
    }
    if (!isObject(value)) throw invalidValue(`An ${op} without a path has an object as its value.`);
    for (const [name, attrValue] of Object.entries(value)) {
      // Okta and Entra both send `{"name.givenName": "…"}` inside a path-less value.
      applyAt(result, op, parsePath(name), attrValue);
    }
  }
  return result;
}
