/** An agent's name: the manifest's slug rule (directory/manifest/schema.ts). */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
