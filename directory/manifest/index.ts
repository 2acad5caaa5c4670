export { manifestJsonSchema } from "./json-schema.js";
export {
  type LoadedManifests,
  loadManifests,
  manifestFiles,
  parseManifestText,
} from "./load-files.js";
export {
  type FieldPath,
  formatPath,
  formatProblem,
  ManifestError,
  type ManifestProblem,
} from "./problems.js";
export {
  type AgentManifest,
  type AgentManifestInput,
  accessSubject,
  agentManifestSchema,
  agentName,
  LIFECYCLES,
  type Lifecycle,
  ownerReference,
} from "./schema.js";
export { findInlineSecrets, isSecretReference } from "./secret-references.js";
export {
  canonicalJson,
  checkManifest,
  manifestDigest,
  type RuntimeSettingsCheck,
  type ValidatedManifest,
  validateManifest,
} from "./validate.js";
