/** Permissions the bot needs in a channel: View Channel, Send Messages, Send Messages in Threads, Embed Links, Attach Files, Read Message History. */
export const REQUIRED_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 38n) | (1n << 14n) | (1n << 15n) | (1n << 16n);

/** The link that adds the bot to a server with its slash commands and the permissions above. */
export function inviteUrl(applicationId: string): string {
  return `https://discord.com/oauth2/authorize?client_id=${applicationId}&scope=bot%20applications.commands&permissions=${REQUIRED_PERMISSIONS}`;
}
