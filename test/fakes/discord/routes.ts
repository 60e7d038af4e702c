// Bot-authenticated REST routes: gateway info, users, applications and commands, channels and
// channel messages, DMs, guilds.
import { checkCommands } from './commands.js';
import { DiscordHttpError, Errors } from './errors.js';
import type { FakeDiscord } from './fakeDiscord.js';
import { createMessageFromPayload, editMessageFromPayload } from './messages.js';
import { channelPermissions, P } from './permissions.js';
import type { RouteContext, RouteDef, RouteResult } from './rest.js';
import type { FakeChannel, FakeMessage, RegisteredCommand } from './types.js';

type Json = Record<string, any>;

const ok = (body: unknown, status = 200): RouteResult => ({ status, body });
const noContent = (): RouteResult => ({ status: 204 });

export function botRoutes(fake: FakeDiscord): RouteDef[] {
  const world = fake.world;

  const requireChannel = (id: string): FakeChannel => {
    const ch = world.channels.get(id);
    if (!ch) throw Errors.unknownChannel();
    return ch;
  };

  /** Channel-permission gate for the bot in guild channels (DMs: closed-DM rule instead). */
  const requireBotPerms = (ch: FakeChannel, needed: bigint) => {
    if (!ch.guild_id) return;
    const guild = world.requireGuild(ch.guild_id);
    const perms = channelPermissions(guild, ch, world.botUser.id);
    if ((perms & P.ViewChannel) === 0n) throw Errors.missingAccess();
    if ((perms & needed) !== needed) throw Errors.missingPermissions();
  };

  const requireChannelMessage = (ch: FakeChannel, id: string): FakeMessage => {
    const m = world.messages.get(id);
    if (!m || m.channel_id !== ch.id || m.deleted || m.ephemeral) throw Errors.unknownMessage();
    return m;
  };

  const requireApp = (id: string) => {
    if (id !== world.applicationId) {
      throw new DiscordHttpError(403, 20012, 'You are not authorized to perform this action on this application');
    }
  };

  const commandsOf = (guildId: string | null): RegisteredCommand[] => {
    if (!guildId) return world.globalCommands;
    if (!world.guilds.has(guildId)) throw Errors.missingAccess();
    let list = world.guildCommands.get(guildId);
    if (!list) {
      list = [];
      world.guildCommands.set(guildId, list);
    }
    return list;
  };

  const toCommand = (body: Json, guildId: string | null): RegisteredCommand => {
    const type = Number(body['type'] ?? 1);
    const name = String(body['name'] ?? '');
    const cmd: RegisteredCommand = {
      id: world.commandId(guildId ?? 'global', type, name),
      application_id: world.applicationId,
      version: world.ids.next(),
      type,
      name,
      name_localizations: body['name_localizations'] ?? null,
      description: String(body['description'] ?? ''),
      description_localizations: body['description_localizations'] ?? null,
      default_member_permissions: body['default_member_permissions'] ?? null,
      nsfw: body['nsfw'] ?? false,
      contexts: body['contexts'] ?? (guildId ? null : [0, 1, 2]),
      integration_types: body['integration_types'] ?? [0],
      dm_permission: body['dm_permission'] ?? true,
    };
    if (Array.isArray(body['options']) && body['options'].length > 0) cmd.options = body['options'];
    if (guildId) cmd.guild_id = guildId;
    return cmd;
  };

  const bulkPut = (ctx: RouteContext, guildId: string | null): RouteResult => {
    requireApp(ctx.params[0] ?? '');
    const list = commandsOf(guildId);
    checkCommands(ctx.body);
    const body = ctx.body as Json[];
    const created = body.map((c) => toCommand(c, guildId));
    list.splice(0, list.length, ...created);
    fake.commandPutLog.push({ scope: guildId ? 'guild' : 'global', guildId, body, response: created, at: ctx.at });
    return ok(created);
  };

  const upsertCommand = (ctx: RouteContext, guildId: string | null): RouteResult => {
    requireApp(ctx.params[0] ?? '');
    const list = commandsOf(guildId);
    checkCommands([ctx.body]);
    const cmd = toCommand(ctx.body as Json, guildId);
    const idx = list.findIndex((c) => c.id === cmd.id);
    if (idx >= 0) list[idx] = cmd;
    else list.push(cmd);
    return ok(cmd, idx >= 0 ? 200 : 201);
  };

  const getCommand = (ctx: RouteContext, guildId: string | null, commandId: string): RouteResult => {
    requireApp(ctx.params[0] ?? '');
    const cmd = commandsOf(guildId).find((c) => c.id === commandId);
    if (!cmd) throw Errors.unknownCommand();
    return ok(cmd);
  };

  const deleteCommand = (ctx: RouteContext, guildId: string | null, commandId: string): RouteResult => {
    requireApp(ctx.params[0] ?? '');
    const list = commandsOf(guildId);
    const idx = list.findIndex((c) => c.id === commandId);
    if (idx < 0) throw Errors.unknownCommand();
    list.splice(idx, 1);
    return noContent();
  };

  const requireGuild = (id: string) => {
    const g = world.guilds.get(id);
    if (!g) throw Errors.unknownGuild();
    return g;
  };

  return [
    {
      method: 'GET',
      template: '/gateway/bot',
      auth: true,
      handler: () =>
        ok({
          url: fake.gatewayUrl,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 1000 - fake.gateway.identifies, reset_after: 86_400_000, max_concurrency: 1 },
        }),
    },
    { method: 'GET', template: '/gateway', auth: false, handler: () => ok({ url: fake.gatewayUrl }) },
    {
      method: 'GET',
      template: '/users/@me',
      auth: true,
      handler: () => ok({ ...world.apiUser(world.botUser), verified: true, mfa_enabled: false, email: null, locale: 'en-US', premium_type: 0 }),
    },
    {
      method: 'GET',
      template: '/users/:id',
      auth: true,
      handler: (ctx) => {
        const u = world.users.get(ctx.params[0] ?? '');
        if (!u) throw Errors.unknownUser();
        return ok(world.apiUser(u));
      },
    },
    {
      method: 'POST',
      template: '/users/@me/channels',
      openApi: '/users/@me/channels',
      auth: true,
      handler: (ctx) => {
        if (fake.dmTooFastRemaining > 0) {
          fake.dmTooFastRemaining--;
          throw Errors.dmTooFast();
        }
        const recipient = String((ctx.body as Json | undefined)?.['recipient_id'] ?? '');
        if (!world.users.has(recipient)) throw Errors.unknownUser();
        return ok(world.apiChannel(world.dmChannelOf(recipient)));
      },
    },
    { method: 'GET', template: '/applications/@me', auth: true, handler: () => ok(fake.applicationJson()) },
    { method: 'GET', template: '/oauth2/applications/@me', auth: true, handler: () => ok(fake.applicationJson()) },

    // ---- application commands
    { method: 'GET', template: '/applications/:id/commands', auth: true, handler: (ctx) => (requireApp(ctx.params[0] ?? ''), ok(world.globalCommands)) },
    {
      method: 'PUT',
      template: '/applications/:id/commands',
      openApi: '/applications/{application_id}/commands',
      auth: true,
      handler: (ctx) => bulkPut(ctx, null),
    },
    {
      method: 'POST',
      template: '/applications/:id/commands',
      openApi: '/applications/{application_id}/commands',
      auth: true,
      handler: (ctx) => upsertCommand(ctx, null),
    },
    { method: 'GET', template: '/applications/:id/commands/:id', auth: true, handler: (ctx) => getCommand(ctx, null, ctx.params[1] ?? '') },
    { method: 'DELETE', template: '/applications/:id/commands/:id', auth: true, handler: (ctx) => deleteCommand(ctx, null, ctx.params[1] ?? '') },
    {
      method: 'GET',
      template: '/applications/:id/guilds/:id/commands',
      auth: true,
      handler: (ctx) => (requireApp(ctx.params[0] ?? ''), ok(commandsOf(ctx.params[1] ?? ''))),
    },
    {
      method: 'PUT',
      template: '/applications/:id/guilds/:id/commands',
      openApi: '/applications/{application_id}/guilds/{guild_id}/commands',
      auth: true,
      handler: (ctx) => bulkPut(ctx, ctx.params[1] ?? ''),
    },
    {
      method: 'POST',
      template: '/applications/:id/guilds/:id/commands',
      openApi: '/applications/{application_id}/guilds/{guild_id}/commands',
      auth: true,
      handler: (ctx) => upsertCommand(ctx, ctx.params[1] ?? ''),
    },
    {
      method: 'GET',
      template: '/applications/:id/guilds/:id/commands/:id',
      auth: true,
      handler: (ctx) => getCommand(ctx, ctx.params[1] ?? '', ctx.params[2] ?? ''),
    },
    {
      method: 'DELETE',
      template: '/applications/:id/guilds/:id/commands/:id',
      auth: true,
      handler: (ctx) => deleteCommand(ctx, ctx.params[1] ?? '', ctx.params[2] ?? ''),
    },

    // ---- channels and messages
    {
      method: 'GET',
      template: '/channels/:id',
      auth: true,
      handler: (ctx) => {
        const ch = requireChannel(ctx.params[0] ?? '');
        requireBotPerms(ch, P.ViewChannel);
        return ok(world.apiChannel(ch));
      },
    },
    {
      method: 'POST',
      template: '/channels/:id/typing',
      auth: true,
      handler: (ctx) => {
        const ch = requireChannel(ctx.params[0] ?? '');
        requireBotPerms(ch, P.SendMessages);
        return noContent();
      },
    },
    {
      method: 'POST',
      template: '/channels/:id/messages',
      openApi: '/channels/{channel_id}/messages',
      auth: true,
      handler: (ctx) => {
        const ch = requireChannel(ctx.params[0] ?? '');
        if (ch.type === 1) {
          const recipient = ch.recipients?.[0];
          if (recipient && world.closedDms.has(recipient.id)) throw Errors.cannotDm();
        }
        requireBotPerms(ch, P.SendMessages | (ctx.files.length > 0 ? P.AttachFiles : 0n));
        const msg = createMessageFromPayload({
          world,
          channelId: ch.id,
          author: world.botUser,
          source: 'channel',
          payload: ctx.body,
          files: ctx.files,
          limitBytes: fake.options.uploadLimitBytes,
        });
        fake.dispatchMessageEvent('MESSAGE_CREATE', msg);
        return ok(fake.messageJson(msg));
      },
    },
    {
      method: 'GET',
      template: '/channels/:id/messages',
      auth: true,
      handler: (ctx) => {
        const ch = requireChannel(ctx.params[0] ?? '');
        requireBotPerms(ch, P.ReadMessageHistory);
        const limit = Math.min(100, Math.max(1, Number(ctx.query.get('limit') ?? 50)));
        const before = ctx.query.get('before');
        const after = ctx.query.get('after');
        let list = [...world.messages.values()].filter((m) => m.channel_id === ch.id && !m.deleted && !m.ephemeral);
        if (before) list = list.filter((m) => BigInt(m.id) < BigInt(before));
        if (after) list = list.filter((m) => BigInt(m.id) > BigInt(after));
        list.sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
        list = after ? list.slice(-limit) : list.slice(0, limit);
        return ok(list.map((m) => fake.messageJson(m)));
      },
    },
    {
      method: 'GET',
      template: '/channels/:id/messages/:id',
      auth: true,
      handler: (ctx) => {
        const ch = requireChannel(ctx.params[0] ?? '');
        requireBotPerms(ch, P.ReadMessageHistory);
        return ok(fake.messageJson(requireChannelMessage(ch, ctx.params[1] ?? '')));
      },
    },
    {
      method: 'PATCH',
      template: '/channels/:id/messages/:id',
      openApi: '/channels/{channel_id}/messages/{message_id}',
      auth: true,
      handler: (ctx) => {
        const ch = requireChannel(ctx.params[0] ?? '');
        requireBotPerms(ch, 0n);
        const msg = requireChannelMessage(ch, ctx.params[1] ?? '');
        if (msg.author.id !== world.botUser.id) throw Errors.cannotEditOthers();
        editMessageFromPayload(world, msg, ctx.body, ctx.files, fake.options.uploadLimitBytes, ctx.at);
        fake.dispatchMessageEvent('MESSAGE_UPDATE', msg);
        return ok(fake.messageJson(msg));
      },
    },
    {
      method: 'DELETE',
      template: '/channels/:id/messages/:id',
      auth: true,
      handler: (ctx) => {
        const ch = requireChannel(ctx.params[0] ?? '');
        const msg = requireChannelMessage(ch, ctx.params[1] ?? '');
        if (msg.author.id !== world.botUser.id) requireBotPerms(ch, P.ManageMessages);
        else requireBotPerms(ch, 0n);
        msg.deleted = true;
        msg.deletedBy = 'bot';
        fake.dispatchMessageEvent('MESSAGE_DELETE', msg);
        return noContent();
      },
    },

    // ---- guilds
    {
      method: 'GET',
      template: '/guilds/:id',
      auth: true,
      handler: (ctx) => {
        const g = requireGuild(ctx.params[0] ?? '');
        const body = world.apiGuild(g, { gateway: false, allMembers: false });
        if (ctx.query.get('with_counts') === 'true') {
          body['approximate_member_count'] = g.members.size;
          body['approximate_presence_count'] = 0;
        }
        return ok(body);
      },
    },
    {
      method: 'GET',
      template: '/guilds/:id/channels',
      auth: true,
      handler: (ctx) => ok(requireGuild(ctx.params[0] ?? '').channels.map((c) => world.apiChannel(c))),
    },
    {
      method: 'GET',
      template: '/guilds/:id/roles',
      auth: true,
      handler: (ctx) => ok(requireGuild(ctx.params[0] ?? '').roles.map((r) => world.apiRole(r))),
    },
    {
      method: 'GET',
      template: '/guilds/:id/members/:id',
      auth: true,
      handler: (ctx) => {
        const g = requireGuild(ctx.params[0] ?? '');
        const m = g.members.get(ctx.params[1] ?? '');
        if (!m) throw Errors.unknownMember();
        return ok(world.apiMember(m));
      },
    },
  ];
}
