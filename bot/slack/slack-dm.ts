import type { webApi } from "@slack/bolt";
import type { SlackConversation } from "./slack-deps.js";

/**
 * The app's direct messages with each person Slack knows by email (users.lookupByEmail,
 * users:read.email): a user id as the channel posts into that DM. People Slack does not know,
 * or who left (deleted), are skipped: the site and the API still list what waits for them.
 */
export async function directMessagePlaces(
  client: webApi.WebClient,
  emails: readonly string[],
): Promise<SlackConversation[]> {
  const places: SlackConversation[] = [];
  for (const email of emails) {
    const found = await client.users.lookupByEmail({ email }).catch(() => undefined);
    const user = found?.user;
    if (!user?.id || user.deleted) continue;
    places.push({ team: user.team_id ?? "", channel: user.id });
  }
  return places;
}
