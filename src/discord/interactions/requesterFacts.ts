import { PermissionFlagsBits, type Interaction } from 'discord.js';
import type { Requester } from '../../community/requester.js';
import { memberRoleIds } from './interactionKit.js';

/** The plain facts a server's rules decide on, read from an interaction (command, button, modal or menu). */
export function requesterFacts(i: Interaction): Requester {
  const inGuild = i.inGuild();
  const ch = i.channel as { id?: string; parentId?: string | null; nsfw?: boolean } | null;
  return {
    userId: i.user.id,
    guildId: i.guildId ?? undefined,
    inGuild,
    channel: { id: i.channelId ?? ch?.id ?? '', parentId: ch?.parentId ?? undefined, nsfw: ch?.nsfw === true },
    roleIds: memberRoleIds(i),
    isManager: inGuild && i.memberPermissions?.has(PermissionFlagsBits.ManageGuild) === true,
    locale: i.locale,
  };
}
