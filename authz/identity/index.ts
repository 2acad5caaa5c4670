export {
  type ExternalIdentity,
  normalizeEmail,
  type User,
  UserDirectory,
} from "./user-directory.js";
