export {
  type ExternalIdentity,
  normalizeEmail,
  type ProvisionedFields,
  type ProvisionedMatch,
  type ProvisionedUser,
  ProvisioningRefusal,
  type User,
  UserDirectory,
} from "./user-directory.js";
