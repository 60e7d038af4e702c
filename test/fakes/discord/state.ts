// In-memory Discord world: users, guilds, roles, channels, members, messages, attachments,
// application commands; plus the serializers that turn them into API objects.
import { createHmac, randomBytes } from 'node:crypto';
import { describeMedia } from './media.js';
import { DEFAULT_BOT_ROLE, DEFAULT_EVERYONE } from './permissions.js';
import { SnowflakeGenerator } from './snowflake.js';
import type {
  AttachmentInput,
  FakeAttachment,
  FakeChannel,
  FakeGuild,
  FakeMember,
  FakeMessage,
  FakeRole,
  FakeUser,
  MessageSource,
  PermissionOverwrite,
  RegisteredCommand,
} from './types.js';

type Json = Record<string, unknown>;

export interface NewMessage {
  channelId: string;
  author: FakeUser;
  source: MessageSource;
  content?: string;
  components?: unknown[];
  embeds?: unknown[];
  attachments?: FakeAttachment[];
  flags?: number;
  type?: number;
  tts?: boolean;
  nonce?: string | number | null;
  interactionId?: string | null;
  webhookId?: string | null;
  messageReference?: FakeMessage['messageReference'];
  /** the request's allowed_mentions (decides who is pinged) */
  allowedMentions?: unknown;
}

/** Users a message actually pings: its content mentions, filtered by allowed_mentions as Discord does. */
export function pingedUsers(mentioned: string[], allowed: unknown): string[] {
  if (!allowed || typeof allowed !== 'object') return mentioned;
  const a = allowed as { parse?: unknown; users?: unknown };
  if (Array.isArray(a.parse) && a.parse.includes('users')) return mentioned;
  const users = Array.isArray(a.users) ? a.users.map(String) : [];
  return mentioned.filter((id) => users.includes(id));
}

export function sanitizeFilename(name: string): string {
  const cleaned = name.replace(/\s+/g, '_').replace(/[^A-Za-z0-9._-]/g, '');
  return cleaned.length > 0 ? cleaned : 'unknown';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class World {
  readonly ids = new SnowflakeGenerator();
  readonly users = new Map<string, FakeUser>();
  readonly guilds = new Map<string, FakeGuild>();
  readonly channels = new Map<string, FakeChannel>();
  /** Insertion-ordered: creation order. */
  readonly messages = new Map<string, FakeMessage>();
  /** `${channelId}/${attachmentId}/${filename}` → attachment, for serving. */
  readonly attachmentsByPath = new Map<string, FakeAttachment>();
  readonly dmChannelByUser = new Map<string, string>();
  readonly closedDms = new Set<string>();
  readonly globalCommands: RegisteredCommand[] = [];
  readonly guildCommands = new Map<string, RegisteredCommand[]>();
  /** Stable command ids per scope+type+name, so repeated PUTs keep ids like Discord does. */
  private readonly commandIds = new Map<string, string>();
  private readonly urlSecret = randomBytes(16);

  readonly applicationId: string;
  readonly botUser: FakeUser;

  constructor(
    private readonly baseUrl: () => string,
    readonly now: () => number,
    private readonly attachmentUrlLifetimeMs: number,
  ) {
    this.applicationId = this.ids.next();
    this.botUser = this.addUser({ username: 'relay-bot', bot: true });
  }

  // ---- users, guilds, channels, roles -------------------------------------------------

  addUser(opts: { username?: string; globalName?: string | null; bot?: boolean; id?: string } = {}): FakeUser {
    const id = opts.id ?? this.ids.next();
    const username = opts.username ?? `user${this.users.size}`;
    const user: FakeUser = {
      id,
      username,
      global_name: opts.globalName === undefined ? (opts.bot ? null : username) : opts.globalName,
      discriminator: '0',
      avatar: null,
      bot: opts.bot ?? false,
    };
    this.users.set(id, user);
    return user;
  }

  user(id: string): FakeUser | undefined {
    return this.users.get(id);
  }

  addGuild(opts: { name: string; ownerId: string; locale?: string; id?: string }): FakeGuild {
    const id = opts.id ?? this.ids.next();
    const guild: FakeGuild = {
      id,
      name: opts.name,
      owner_id: opts.ownerId,
      preferred_locale: opts.locale ?? 'en-US',
      joined_at: iso(this.now()),
      roles: [],
      channels: [],
      members: new Map(),
    };
    guild.roles.push(this.makeRole(id, { name: '@everyone', permissions: DEFAULT_EVERYONE, position: 0 }));
    const botRole = this.makeRole(this.ids.next(), {
      name: this.botUser.username,
      permissions: DEFAULT_BOT_ROLE,
      position: 1,
      managed: true,
    });
    botRole.botId = this.botUser.id;
    guild.roles.push(botRole);
    this.guilds.set(id, guild);
    this.addMember(id, opts.ownerId, []);
    this.addMember(id, this.botUser.id, [botRole.id]);
    return guild;
  }

  guild(id: string): FakeGuild | undefined {
    return this.guilds.get(id);
  }

  private makeRole(
    id: string,
    o: { name: string; permissions: bigint | string | number; position: number; color?: number; managed?: boolean; hoist?: boolean; mentionable?: boolean },
  ): FakeRole {
    return {
      id,
      name: o.name,
      permissions: BigInt(o.permissions).toString(),
      color: o.color ?? 0,
      position: o.position,
      hoist: o.hoist ?? false,
      managed: o.managed ?? false,
      mentionable: o.mentionable ?? false,
    };
  }

  addRole(guildId: string, opts: { name: string; permissions?: bigint | string | number; color?: number; hoist?: boolean; mentionable?: boolean }): FakeRole {
    const guild = this.requireGuild(guildId);
    const role = this.makeRole(this.ids.next(), {
      ...opts,
      permissions: opts.permissions ?? 0n,
      position: guild.roles.length,
    });
    guild.roles.push(role);
    return role;
  }

  addMember(guildId: string, userId: string, roleIds: string[] = []): FakeMember {
    const guild = this.requireGuild(guildId);
    const member: FakeMember = { userId, roles: [...roleIds], nick: null, joined_at: iso(this.now()) };
    guild.members.set(userId, member);
    return member;
  }

  addChannel(
    guildId: string,
    opts: { name?: string; type?: number; topic?: string | null; parentId?: string | null; permissionOverwrites?: PermissionOverwrite[]; nsfw?: boolean } = {},
  ): FakeChannel {
    const guild = this.requireGuild(guildId);
    const channel: FakeChannel = {
      id: this.ids.next(),
      type: opts.type ?? 0,
      name: opts.name ?? `channel-${guild.channels.length + 1}`,
      guild_id: guildId,
      position: guild.channels.length,
      permission_overwrites: (opts.permissionOverwrites ?? []).map((o) => ({
        id: o.id,
        type: o.type,
        allow: BigInt(o.allow).toString(),
        deny: BigInt(o.deny).toString(),
      })),
      parent_id: opts.parentId ?? null,
      topic: opts.topic ?? null,
      nsfw: opts.nsfw ?? false,
      rate_limit_per_user: 0,
      last_message_id: null,
    };
    guild.channels.push(channel);
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** The bot's DM channel with a user (created on first use, stable afterwards). */
  dmChannelOf(userId: string): FakeChannel {
    const existing = this.dmChannelByUser.get(userId);
    if (existing) {
      const ch = this.channels.get(existing);
      if (ch) return ch;
    }
    const user = this.users.get(userId);
    if (!user) throw new Error(`fake discord: unknown user ${userId}`);
    const channel: FakeChannel = {
      id: this.ids.next(),
      type: 1,
      name: null,
      guild_id: null,
      position: 0,
      permission_overwrites: [],
      parent_id: null,
      topic: null,
      nsfw: false,
      rate_limit_per_user: 0,
      last_message_id: null,
      recipients: [user],
    };
    this.channels.set(channel.id, channel);
    this.dmChannelByUser.set(userId, channel.id);
    return channel;
  }

  requireGuild(id: string): FakeGuild {
    const g = this.guilds.get(id);
    if (!g) throw new Error(`fake discord: unknown guild ${id}`);
    return g;
  }

  guildOfChannel(channelId: string): FakeGuild | undefined {
    const ch = this.channels.get(channelId);
    return ch?.guild_id ? this.guilds.get(ch.guild_id) : undefined;
  }

  // ---- attachments ------------------------------------------------------------------

  signAttachmentPath(path: string, issuedAt: number): string {
    const ex = Math.floor((issuedAt + this.attachmentUrlLifetimeMs) / 1000).toString(16);
    const is = Math.floor(issuedAt / 1000).toString(16);
    const hm = createHmac('sha256', this.urlSecret).update(`${path}|${ex}|${is}`).digest('hex');
    return `ex=${ex}&is=${is}&hm=${hm}&`;
  }

  /** Checks an attachment URL's signature and expiry; returns the attachment or null. */
  resolveAttachmentUrl(path: string, query: URLSearchParams): FakeAttachment | null {
    const att = this.attachmentsByPath.get(path);
    if (!att) return null;
    const ex = query.get('ex');
    const is = query.get('is');
    const hm = query.get('hm');
    if (!ex || !is || !hm) return null;
    const expected = createHmac('sha256', this.urlSecret).update(`${path}|${ex}|${is}`).digest('hex');
    if (expected !== hm) return null;
    if (parseInt(ex, 16) * 1000 < this.now()) return null;
    return att;
  }

  makeAttachment(channelId: string, input: AttachmentInput, opts: { ephemeral?: boolean } = {}): FakeAttachment {
    const id = this.ids.next();
    const filename = sanitizeFilename(input.name);
    const media = describeMedia(filename, input.bytes, input);
    const path = `${channelId}/${id}/${filename}`;
    const sig = this.signAttachmentPath(path, this.now());
    const base = this.baseUrl();
    const att: FakeAttachment = {
      id,
      filename,
      size: input.bytes.length,
      content_type: media.contentType,
      url: `${base}/attachments/${path}?${sig}`,
      proxy_url: `${base}/media/attachments/${path}?${sig}`,
      bytes: input.bytes,
    };
    if (media.width !== undefined && media.height !== undefined) {
      att.width = media.width;
      att.height = media.height;
    }
    if (input.description !== undefined) att.description = input.description;
    if (opts.ephemeral) att.ephemeral = true;
    this.attachmentsByPath.set(path, att);
    return att;
  }

  // ---- messages -----------------------------------------------------------------------

  createMessage(m: NewMessage): FakeMessage {
    const channel = this.channels.get(m.channelId);
    const flags = m.flags ?? 0;
    const content = m.content ?? '';
    const mentionUserIds = [...content.matchAll(/<@!?(\d{17,19})>/g)].map((x) => x[1] ?? '').filter((id) => this.users.has(id));
    const mentionRoleIds = [...content.matchAll(/<@&(\d{17,19})>/g)].map((x) => x[1] ?? '');
    const msg: FakeMessage = {
      id: this.ids.next(),
      channel_id: m.channelId,
      guild_id: channel?.guild_id ?? null,
      author: m.author,
      content,
      components: m.components ?? [],
      embeds: m.embeds ?? [],
      attachments: m.attachments ?? [],
      flags,
      type: m.type ?? (m.messageReference ? 19 : 0),
      tts: m.tts ?? false,
      nonce: m.nonce ?? null,
      createdAt: this.now(),
      editedAt: null,
      edits: [],
      deleted: false,
      deletedBy: null,
      source: m.source,
      ephemeral: (flags & 64) !== 0,
      interactionId: m.interactionId ?? null,
      webhookId: m.webhookId ?? null,
      messageReference: m.messageReference ?? null,
      mentionUserIds,
      pingedUserIds: pingedUsers(mentionUserIds, m.allowedMentions),
      mentionRoleIds,
      mentionEveryone: /@(everyone|here)/.test(content),
    };
    this.messages.set(msg.id, msg);
    if (channel && !msg.ephemeral) channel.last_message_id = msg.id;
    return msg;
  }

  // ---- commands -------------------------------------------------------------------------

  commandId(scope: string, type: number, name: string): string {
    const key = `${scope}|${type}|${name}`;
    let id = this.commandIds.get(key);
    if (!id) {
      id = this.ids.next();
      this.commandIds.set(key, id);
    }
    return id;
  }

  findCommand(name: string, guildId: string | null, type = 1): RegisteredCommand | undefined {
    const inGuild = guildId ? this.guildCommands.get(guildId)?.find((c) => c.name === name && c.type === type) : undefined;
    return inGuild ?? this.globalCommands.find((c) => c.name === name && c.type === type);
  }

  // ---- serializers ------------------------------------------------------------------------

  apiUser(u: FakeUser): Json {
    const out: Json = {
      id: u.id,
      username: u.username,
      global_name: u.global_name,
      discriminator: u.discriminator,
      avatar: u.avatar,
      public_flags: 0,
      flags: 0,
      banner: null,
      accent_color: null,
      avatar_decoration_data: null,
      primary_guild: null,
    };
    if (u.bot) out['bot'] = true;
    return out;
  }

  apiRole(r: FakeRole): Json {
    const out: Json = {
      id: r.id,
      name: r.name,
      description: null,
      color: r.color,
      colors: { primary_color: r.color, secondary_color: null, tertiary_color: null },
      hoist: r.hoist,
      icon: null,
      unicode_emoji: null,
      position: r.position,
      permissions: r.permissions,
      managed: r.managed,
      mentionable: r.mentionable,
      flags: 0,
    };
    if (r.botId) out['tags'] = { bot_id: r.botId };
    return out;
  }

  apiMember(m: FakeMember, withUser = true): Json {
    const out: Json = {
      roles: [...m.roles],
      nick: m.nick,
      avatar: null,
      banner: null,
      joined_at: m.joined_at,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
    };
    const user = this.users.get(m.userId);
    if (withUser && user) out['user'] = this.apiUser(user);
    return out;
  }

  apiChannel(c: FakeChannel): Json {
    if (c.type === 1) {
      return {
        id: c.id,
        type: 1,
        last_message_id: c.last_message_id,
        flags: 0,
        recipients: (c.recipients ?? []).map((u) => this.apiUser(u)),
      };
    }
    return {
      id: c.id,
      type: c.type,
      guild_id: c.guild_id,
      name: c.name,
      position: c.position,
      permission_overwrites: c.permission_overwrites.map((o) => ({ ...o })),
      parent_id: c.parent_id,
      topic: c.topic,
      nsfw: c.nsfw,
      rate_limit_per_user: c.rate_limit_per_user,
      last_message_id: c.last_message_id,
      flags: 0,
    };
  }

  apiGuild(g: FakeGuild, opts: { gateway: boolean; allMembers: boolean }): Json {
    const base: Json = {
      id: g.id,
      name: g.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      owner_id: g.owner_id,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: g.roles.map((r) => this.apiRole(r)),
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: g.channels[0]?.id ?? null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      max_members: 500000,
      max_video_channel_users: 25,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: g.preferred_locale,
      nsfw_level: 0,
      region: 'deprecated',
    };
    if (!opts.gateway) return base;
    const members = [...g.members.values()].filter((m) => opts.allMembers || m.userId === this.botUser.id);
    return {
      ...base,
      joined_at: g.joined_at,
      large: false,
      unavailable: false,
      lazy: true,
      member_count: g.members.size,
      members: members.map((m) => this.apiMember(m)),
      channels: g.channels.map((c) => {
        const { guild_id: _omit, ...rest } = this.apiChannel(c);
        return rest;
      }),
      threads: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      embedded_activities: [],
      incidents_data: null,
    };
  }

  apiAttachment(a: FakeAttachment): Json {
    const out: Json = {
      id: a.id,
      filename: a.filename,
      size: a.size,
      url: a.url,
      proxy_url: a.proxy_url,
    };
    if (a.content_type !== null) out['content_type'] = a.content_type;
    if (a.width !== undefined) out['width'] = a.width;
    if (a.height !== undefined) out['height'] = a.height;
    if (a.description !== undefined) out['description'] = a.description;
    if (a.ephemeral) out['ephemeral'] = true;
    return out;
  }

  apiMessage(m: FakeMessage, opts: { withGuildId?: boolean } = {}): Json {
    const out: Json = {
      id: m.id,
      type: m.type,
      channel_id: m.channel_id,
      author: this.apiUser(m.author),
      content: m.content,
      timestamp: iso(m.createdAt),
      edited_timestamp: m.editedAt === null ? null : iso(m.editedAt),
      tts: m.tts,
      mention_everyone: m.mentionEveryone,
      mentions: m.mentionUserIds.flatMap((id) => {
        const u = this.users.get(id);
        return u ? [this.apiUser(u)] : [];
      }),
      mention_roles: [...m.mentionRoleIds],
      attachments: m.attachments.map((a) => this.apiAttachment(a)),
      embeds: m.embeds.map((e) => (e && typeof e === 'object' && !('type' in e) ? { type: 'rich', ...e } : e)),
      components: m.components,
      flags: m.flags,
      pinned: false,
    };
    if (m.nonce !== null) out['nonce'] = m.nonce;
    if (m.webhookId) {
      out['webhook_id'] = m.webhookId;
      out['application_id'] = this.applicationId;
    }
    if (m.messageReference) {
      out['message_reference'] = { type: 0, ...m.messageReference };
      const ref = this.messages.get(m.messageReference.message_id);
      out['referenced_message'] = ref && !ref.deleted ? this.apiMessage(ref) : null;
    }
    if (opts.withGuildId && m.guild_id) out['guild_id'] = m.guild_id;
    return out;
  }
}
