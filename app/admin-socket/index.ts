export {
  type CallerIo,
  type CommandRoute,
  NoRouteError,
  routeCommand,
  sendCommand,
} from "./client.js";
export { adminSocketPath, type CommandRequest, SOCKET_FILE } from "./protocol.js";
export { type AdminSocket, type CommandIo, listenAdminSocket } from "./server.js";
