export {
  type ExternalIdentity,
  normalizeEmail,
  type ProvisionedFields,
  type ProvisionedMatch,
  type ProvisionedUser,
  ProvisioningRefusal,
  type User,
  UserDirectory,
  userIsActive,
} from "./user-directory.js";
