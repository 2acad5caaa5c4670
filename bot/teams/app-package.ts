import { colorIcon, outlineIcon } from "./app-icons.js";
import { ASK_COMMAND, SEARCH_COMMAND } from "./message-extension.js";
import { zipFiles } from "./zip-file.js";

export const MANIFEST_VERSION = "1.17";

/**
 * The Teams app manifest (schema 1.17) for this Switchboard: the bot in personal chats,
 * teams and group chats; the message extension's search and "Ask an agent about this
 * message" commands; link unfurling of the site's host; the site's host as a valid domain;
 * and the resource-specific consent that lets the bot hear replies in a channel's reply
 * chain without being mentioned (ChannelMessage.Read.Group) and in group chats
 * (ChatMessage.Read.Chat).
 */
export function teamsManifest(options: { appId: string; publicUrl: string; version?: string }) {
  const site = new URL(options.publicUrl);
  const website = site.origin;
  const { appId } = options;
  return {
    $schema: `https://developer.microsoft.com/en-us/json-schemas/teams/v${MANIFEST_VERSION}/MicrosoftTeams.schema.json`,
    manifestVersion: MANIFEST_VERSION,
    version: options.version ?? "1.0.0",
    id: appId,
    developer: {
      name: "Switchboard",
      websiteUrl: website,
      privacyUrl: website,
      termsOfUseUrl: website,
    },
    name: { short: "Agents", full: "Switchboard agents" },
    description: {
      short: "Find and run your company's AI agents.",
      full: "Mention @Agents with an agent's name and a request to run it in the conversation; reply in the thread to continue. Search the agents you may use from the message extension, unfurl links to them, or ask an agent about any message.",
    },
    icons: { color: "color.png", outline: "outline.png" },
    accentColor: "#3B5BDB",
    bots: [
      {
        botId: appId,
        scopes: ["personal", "team", "groupChat"],
        supportsFiles: false,
        isNotificationOnly: false,
        commandLists: [
          {
            scopes: ["personal", "team", "groupChat"],
            commands: [{ title: "help", description: "The agents you may run, as a card" }],
          },
        ],
      },
    ],
    composeExtensions: [
      {
        botId: appId,
        commands: [
          {
            id: SEARCH_COMMAND,
            type: "query",
            title: "Find agents",
            description: "Search the agents you may use",
            initialRun: true,
            context: ["compose", "commandBox"],
            parameters: [
              {
                name: "query",
                title: "Agent",
                description: "An agent's name or what it does",
                inputType: "text",
              },
            ],
          },
          {
            id: ASK_COMMAND,
            type: "action",
            title: "Ask an agent about this message",
            description: "Pick an agent and a request; the answer is posted in the conversation",
            context: ["message"],
            fetchTask: true,
          },
        ],
        messageHandlers: [{ type: "link", value: { domains: [site.host] } }],
      },
    ],
    permissions: ["identity", "messageTeamMembers"],
    validDomains: [site.host],
    webApplicationInfo: { id: appId, resource: `api://botid-${appId}` },
    authorization: {
      permissions: {
        resourceSpecific: [
          { name: "ChannelMessage.Read.Group", type: "Application" },
          { name: "ChatMessage.Read.Chat", type: "Application" },
        ],
      },
    },
  };
}

/** The app package Teams admins upload: manifest.json and its two icons, zipped. */
export function teamsAppPackage(options: { appId: string; publicUrl: string }): Buffer {
  return zipFiles([
    { name: "manifest.json", data: Buffer.from(JSON.stringify(teamsManifest(options), null, 2)) },
    { name: "color.png", data: colorIcon() },
    { name: "outline.png", data: outlineIcon() },
  ]);
}
