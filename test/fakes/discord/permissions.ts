// Discord permission bits and the channel-permission computation Discord documents
// (base from @everyone + roles, ADMINISTRATOR/owner = all, then overwrites).
import type { FakeChannel, FakeGuild } from './types.js';

export const P = {
  CreateInstantInvite: 1n << 0n,
  Administrator: 1n << 3n,
  ManageChannels: 1n << 4n,
  ManageGuild: 1n << 5n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseExternalEmojis: 1n << 18n,
  Connect: 1n << 20n,
  Speak: 1n << 21n,
  ChangeNickname: 1n << 26n,
  UseApplicationCommands: 1n << 31n,
  SendMessagesInThreads: 1n << 38n,
} as const;

/** All permission bits Discord currently defines (bits 0..52). */
export const ALL_PERMISSIONS = (1n << 53n) - 1n;

export const DEFAULT_EVERYONE =
  P.CreateInstantInvite |
  P.AddReactions |
  P.ViewChannel |
  P.SendMessages |
  P.EmbedLinks |
  P.AttachFiles |
  P.ReadMessageHistory |
  P.UseExternalEmojis |
  P.Connect |
  P.Speak |
  P.ChangeNickname |
  P.UseApplicationCommands |
  P.SendMessagesInThreads;

export const DEFAULT_BOT_ROLE = DEFAULT_EVERYONE | P.ManageMessages | P.MentionEveryone;

export function toBits(p: string | number | bigint): bigint {
  return typeof p === 'bigint' ? p : BigInt(p);
}

/** Guild-level permissions of a member. */
export function basePermissions(guild: FakeGuild, userId: string): bigint {
  if (guild.owner_id === userId) return ALL_PERMISSIONS;
  const member = guild.members.get(userId);
  const everyone = guild.roles.find((r) => r.id === guild.id);
  let perms = everyone ? toBits(everyone.permissions) : 0n;
  for (const roleId of member?.roles ?? []) {
    const role = guild.roles.find((r) => r.id === roleId);
    if (role) perms |= toBits(role.permissions);
  }
  return perms & P.Administrator ? ALL_PERMISSIONS : perms;
}

/** Channel permissions of a member (overwrites applied in Discord's order). */
export function channelPermissions(guild: FakeGuild, channel: FakeChannel | undefined, userId: string): bigint {
  let perms = basePermissions(guild, userId);
  if (perms === ALL_PERMISSIONS || !channel) return perms;
  const ow = channel.permission_overwrites;
  const everyone = ow.find((o) => o.type === 0 && o.id === guild.id);
  if (everyone) perms = (perms & ~toBits(everyone.deny)) | toBits(everyone.allow);
  const member = guild.members.get(userId);
  let allow = 0n;
  let deny = 0n;
  for (const o of ow) {
    if (o.type === 0 && o.id !== guild.id && member?.roles.includes(o.id)) {
      allow |= toBits(o.allow);
      deny |= toBits(o.deny);
    }
  }
  perms = (perms & ~deny) | allow;
  const own = ow.find((o) => o.type === 1 && o.id === userId);
  if (own) perms = (perms & ~toBits(own.deny)) | toBits(own.allow);
  // Without VIEW_CHANNEL nothing else applies.
  return perms & P.ViewChannel ? perms : 0n;
}
