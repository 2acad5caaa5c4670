/**
 * The secret store behind `{ secret: NAME }` in agents' runtime settings: values encrypted at
 * rest (AES-256-GCM under a data key per value, data keys wrapped by a keyring from the
 * environment or a KMS), managed by their owners, and used only by the agents their owners
 * granted them to, checked in the authorizer at the moment of each runtime call. Values
 * go in and never come out, except into that runtime call. Depends on authz, governance
 * (the audit log), runtimes (the resolver's shape) and core.
 */

export { keyFileEntries } from "./crypto/key-file.js";
export {
  KeyUnavailableError,
  type KeyWrapper,
  KeyWrappers,
  type WrappedKey,
} from "./crypto/key-wrapper.js";
export { LocalKeyring, parseKeyring } from "./crypto/keyring.js";
export { AwsKmsKeyWrapper, type AwsKmsSettings } from "./kms/aws-kms.js";
export { isAgentName, secretNameOf } from "./secret-names.js";
export { agentSecrets, type SecretResolutionOptions } from "./secret-resolution.js";
export { SecretService } from "./secret-service.js";
export {
  type SecretChange,
  type SecretSummary,
  type SecretWrite,
  secretWriteSchema,
} from "./secret-write.js";
export type { RotationReport } from "./store/rotation.js";
export { type SecretRecord, SecretStore } from "./store/secret-store.js";
