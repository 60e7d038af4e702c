// The FakeDiscord facade: owns the world, the server, the gateway and the recordings, and
// offers the test-facing API (inject interactions, inspect messages and calls, inject faults).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Gateway, shardOf } from './gateway.js';
import {
  basePayload,
  buildOptions,
  FakeInteraction,
  findComponent,
  InteractionType,
  modalSubmitComponents,
  newToken,
  resolveContext,
  type ContextInput,
  type InteractionHost,
  type InteractionKind,
  type OptionsInput,
  type ResolvedContext,
} from './interactions.js';
import { OpenApiValidator } from './openapi.js';
import { RateLimiter } from './rateLimits.js';
import { RestPipeline, type RestHost } from './rest.js';
import { botRoutes } from './routes.js';
import { FakeServer } from './server.js';
import { World } from './state.js';
import type {
  AttachmentInput,
  CommandPut,
  FailRule,
  FakeChannel,
  FakeDiscordOptions,
  FakeGuild,
  FakeMember,
  FakeMessage,
  FakeRole,
  FakeUser,
  OpenApiProblem,
  PermissionOverwrite,
  RateLimitHit,
  RateLimitRule,
  RecordedCall,
  RegisteredCommand,
  WaitOptions,
} from './types.js';
import { interactionRoutes } from './webhooks.js';

type Json = Record<string, any>;

export const Intents = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildMessages: 1 << 9,
  DirectMessages: 1 << 12,
} as const;

export interface ResolvedOptions {
  interactionWindowMs: number;
  tokenLifetimeMs: number;
  heartbeatIntervalMs: number;
  validateOpenApi: boolean;
  rejectInvalidBodies: boolean;
  rateLimits: boolean;
  uploadLimitBytes: number;
  attachmentUrlLifetimeMs: number;
  openApiSpecPath: string | undefined;
  log: ((line: string) => void) | undefined;
}

export interface SlashInput extends ContextInput, OptionsInput {
  name: string;
  /** Defaults to the registered command's id (or a stable generated one). */
  commandId?: string;
}

export interface AutocompleteInput extends SlashInput {
  focused: string;
}

export interface ClickButtonInput {
  messageId: string;
  customId: string;
  user?: FakeUser | string;
  locale?: string;
  permissions?: string | number | bigint;
  attachmentSizeLimit?: number;
  /** Click even if the message has no such (enabled) button. */
  force?: boolean;
}

export interface SelectInput extends ClickButtonInput {
  values: string[];
}

export interface SubmitModalInput extends ContextInput {
  customId: string;
  fields?: Record<string, string | string[]>;
  files?: Record<string, AttachmentInput[]>;
  /** The message the modal was opened from (defaults to the opening component's message). */
  messageId?: string;
}

export interface MessageCommandInput extends ContextInput {
  name: string;
  targetMessageId: string;
}

export interface UserCommandInput extends ContextInput {
  name: string;
  targetUserId: string;
}

export interface MessagesInOptions {
  includeEphemeral?: boolean;
  includeDeleted?: boolean;
}

export interface AttachmentDownload {
  path: string;
  status: number;
  at: number;
}

export class FakeDiscord implements InteractionHost, RestHost {
  readonly options: ResolvedOptions;
  /** @internal world state */
  readonly world: World;
  /** @internal */
  readonly gateway: Gateway;
  /** @internal */
  readonly limiter: RateLimiter;
  /** @internal */
  readonly validator: OpenApiValidator | null;
  private readonly server: FakeServer;
  private readonly rest: RestPipeline;

  /** Every REST call, in arrival order. */
  readonly calls: RecordedCall[] = [];
  /** Bodies that failed OpenAPI validation. */
  readonly openApiProblems: OpenApiProblem[] = [];
  /** Crashes inside the fake itself (answered 500). */
  readonly internalErrors: string[] = [];
  /** Requests for attachment URLs (the bot downloading user files, or anything else). */
  readonly attachmentDownloads: AttachmentDownload[] = [];
  /** @internal */
  readonly commandPutLog: CommandPut[] = [];
  /** @internal */
  readonly interactionsById = new Map<string, FakeInteraction>();
  /** @internal */
  readonly interactionsByToken = new Map<string, FakeInteraction>();
  /** @internal remaining `POST /users/@me/channels` to fail with 40003 */
  dmTooFastRemaining = 0;

  private failRules: (FailRule & { remaining: number })[] = [];
  private clockOffsetMs = 0;
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private closed = false;
  private port = 0;

  readonly applicationId: string;
  readonly botUser: FakeUser;
  /** Owner of the default guild (has every permission). */
  readonly owner: FakeUser;
  readonly alice: FakeUser;
  readonly bob: FakeUser;
  readonly guild: FakeGuild;
  readonly channel: FakeChannel;
  readonly channel2: FakeChannel;
  /** A role with ADMINISTRATOR in the default guild (nobody has it by default). */
  readonly adminRole: FakeRole;
  readonly defaultAttachmentSizeLimit = 10_485_760;

  constructor(opts: FakeDiscordOptions = {}) {
    this.options = {
      interactionWindowMs: opts.interactionWindowMs ?? 3000,
      tokenLifetimeMs: opts.tokenLifetimeMs ?? 15 * 60_000,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 5000,
      validateOpenApi: opts.validateOpenApi ?? true,
      rejectInvalidBodies: opts.rejectInvalidBodies ?? false,
      rateLimits: opts.rateLimits ?? false,
      uploadLimitBytes: opts.uploadLimitBytes ?? 10_485_760,
      attachmentUrlLifetimeMs: opts.attachmentUrlLifetimeMs ?? 24 * 3_600_000,
      openApiSpecPath: opts.openApiSpecPath,
      log: opts.log,
    };
    this.world = new World(
      () => this.baseUrl,
      () => this.now(),
      this.options.attachmentUrlLifetimeMs,
    );
    this.limiter = new RateLimiter(this.options.rateLimits);
    this.validator = this.options.validateOpenApi ? new OpenApiValidator(this.options.openApiSpecPath) : null;
    this.gateway = new Gateway(this.options.heartbeatIntervalMs, {
      ready: (session) => this.readyPayload(session.id, session.shard),
      guildCreates: (session) =>
        [...this.world.guilds.values()].map((g) => this.world.apiGuild(g, { gateway: true, allMembers: (session.intents & Intents.GuildMembers) !== 0 })),
      log: this.options.log,
    });
    this.rest = new RestPipeline(this, [...interactionRoutes(this), ...botRoutes(this)]);
    this.server = new FakeServer({
      rest: (req, res, url) => this.rest.handle(req, res, url),
      attachment: (req, res, url) => this.serveAttachment(req, res, url),
      upgrade: (req, socket, head) => this.gateway.handleUpgrade(req, socket, head),
    });

    const w = this.world;
    this.applicationId = w.applicationId;
    this.botUser = w.botUser;
    this.owner = w.addUser({ username: 'guild-owner' });
    this.alice = w.addUser({ username: 'alice' });
    this.bob = w.addUser({ username: 'bob' });
    this.guild = w.addGuild({ name: 'Relay Test Guild', ownerId: this.owner.id });
    this.adminRole = w.addRole(this.guild.id, { name: 'Admin', permissions: 1n << 3n });
    w.addMember(this.guild.id, this.alice.id);
    w.addMember(this.guild.id, this.bob.id);
    this.channel = w.addChannel(this.guild.id, { name: 'general' });
    this.channel2 = w.addChannel(this.guild.id, { name: 'second' });
  }

  /** @internal */
  async listen(): Promise<void> {
    this.port = await this.server.listen();
    this.gateway.url = this.gatewayUrl;
  }

  // ---- addresses ------------------------------------------------------------------------

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  /** Pass as discord.js `rest.api`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api`;
  }
  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  // ---- clock -------------------------------------------------------------------------------

  /** The fake's clock (real time + advanceClock offset): used for the 3 s / 15 min rules and URL expiry. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Moves the fake's clock forward (e.g. 15 min to expire interaction tokens). */
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  // ---- recordings ----------------------------------------------------------------------------

  get rateLimitHits(): RateLimitHit[] {
    return this.limiter.hits;
  }

  commandPuts(): CommandPut[] {
    return [...this.commandPutLog];
  }

  registeredCommands(guildId?: string): RegisteredCommand[] {
    return [...(guildId ? (this.world.guildCommands.get(guildId) ?? []) : this.world.globalCommands)];
  }

  /** REST calls whose templated route matches (e.g. 'PATCH /channels/:id/messages/:id'). */
  callsTo(route: string | RegExp): RecordedCall[] {
    return this.calls.filter((c) => (typeof route === 'string' ? c.route === route : route.test(c.route)));
  }

  interaction(id: string): FakeInteraction | undefined {
    return this.interactionsById.get(id);
  }

  interactions(): FakeInteraction[] {
    return [...this.interactionsById.values()];
  }

  // ---- world -------------------------------------------------------------------------------

  defaultGuild(): FakeGuild {
    return this.guild;
  }
  defaultChannel(): FakeChannel {
    return this.channel;
  }
  defaultUser(): FakeUser {
    return this.alice;
  }

  user(id: string): FakeUser | undefined {
    return this.world.users.get(id);
  }

  channelById(id: string): FakeChannel | undefined {
    return this.world.channels.get(id);
  }

  /**
   * Another guild (the bot is a member, with the default bot role), announced by GUILD_CREATE to the session of its
   * shard. `onShard: [id, count]` picks an id whose events Discord routes to that shard ((id >> 22) % count).
   */
  addGuild(opts: { name: string; owner?: FakeUser; locale?: string; onShard?: [number, number] }): FakeGuild {
    const owner = opts.owner ?? this.owner;
    const g = this.world.addGuild({
      name: opts.name,
      ownerId: owner.id,
      ...(opts.locale ? { locale: opts.locale } : {}),
      ...(opts.onShard ? { id: this.idOnShard(...opts.onShard) } : {}),
    });
    this.gateway.dispatch('GUILD_CREATE', this.world.apiGuild(g, { gateway: true, allMembers: false }), Intents.Guilds);
    return g;
  }

  /** A fresh snowflake whose timestamp part maps to `shard` of `count` (at most count-1 ms ahead of now). */
  private idOnShard(shard: number, count: number): string {
    const base = BigInt(this.world.ids.next());
    const ts = base >> 22n;
    const n = BigInt(count);
    const ahead = (BigInt(shard) - (ts % n) + n) % n;
    return (((ts + ahead) << 22n) | (base & 0x3fffffn)).toString();
  }

  /** The shard (of `count`) a guild's events go to; DMs (null) go to shard 0. */
  shardOf(guildId: string | null, count: number): number {
    return shardOf(guildId, count);
  }

  /** A new user, by default also a member of the default guild (GUILD_MEMBER_ADD with the GuildMembers intent). */
  addUser(opts: { username?: string; globalName?: string | null; bot?: boolean; guildId?: string | null; roleIds?: string[] } = {}): FakeUser {
    const user = this.world.addUser(opts);
    const guildId = opts.guildId === undefined ? this.guild.id : opts.guildId;
    if (guildId) this.addMember(guildId, user.id, opts.roleIds ?? []);
    return user;
  }

  addMember(guildId: string, userId: string, roleIds: string[] = []): FakeMember {
    const m = this.world.addMember(guildId, userId, roleIds);
    this.gateway.dispatch('GUILD_MEMBER_ADD', { ...this.world.apiMember(m), guild_id: guildId }, Intents.GuildMembers);
    return m;
  }

  addChannel(
    guildId: string,
    opts: { name?: string; type?: number; topic?: string | null; parentId?: string | null; permissionOverwrites?: PermissionOverwrite[]; nsfw?: boolean } = {},
  ): FakeChannel {
    const ch = this.world.addChannel(guildId, opts);
    this.gateway.dispatch('CHANNEL_CREATE', this.world.apiChannel(ch), Intents.Guilds);
    return ch;
  }

  /** Replaces a guild channel's permission overwrites (CHANNEL_UPDATE). */
  setChannelOverwrites(channelId: string, overwrites: PermissionOverwrite[]): FakeChannel {
    const ch = this.world.channels.get(channelId);
    if (!ch || !ch.guild_id) throw new Error(`fake discord: unknown guild channel ${channelId}`);
    ch.permission_overwrites = overwrites.map((o) => ({ id: o.id, type: o.type, allow: BigInt(o.allow).toString(), deny: BigInt(o.deny).toString() }));
    this.gateway.dispatch('CHANNEL_UPDATE', this.world.apiChannel(ch), Intents.Guilds);
    return ch;
  }

  addRole(guildId: string, opts: { name: string; permissions?: bigint | string | number; color?: number; hoist?: boolean; mentionable?: boolean }): FakeRole {
    const role = this.world.addRole(guildId, opts);
    this.gateway.dispatch('GUILD_ROLE_CREATE', { guild_id: guildId, role: this.world.apiRole(role) }, Intents.Guilds);
    return role;
  }

  setMemberRoles(guildId: string, userId: string, roleIds: string[]): FakeMember {
    const guild = this.world.requireGuild(guildId);
    const m = guild.members.get(userId);
    if (!m) throw new Error(`fake discord: ${userId} is not a member of ${guildId}`);
    for (const r of roleIds) if (!guild.roles.some((x) => x.id === r)) throw new Error(`fake discord: unknown role ${r}`);
    m.roles = roleIds.filter((r) => r !== guildId);
    this.gateway.dispatch('GUILD_MEMBER_UPDATE', { ...this.world.apiMember(m), guild_id: guildId }, Intents.GuildMembers);
    return m;
  }

  /** Creates an attachment served by the fake (e.g. to reference by id in raw options). */
  makeAttachment(channelId: string, input: AttachmentInput) {
    return this.world.makeAttachment(channelId, input, { ephemeral: true });
  }

  // ---- messages ------------------------------------------------------------------------------

  /** @internal message JSON as Discord returns it (plus interaction_metadata). */
  messageJson(m: FakeMessage): Json {
    const out = this.world.apiMessage(m);
    const ix = m.interactionId ? this.interactionsById.get(m.interactionId) : undefined;
    if (ix) {
      const user = this.world.users.get(ix.userId);
      const meta: Json = {
        id: ix.id,
        type: ix.type,
        user: user ? this.world.apiUser(user) : null,
        authorizing_integration_owners: ix.payload['authorizing_integration_owners'],
      };
      if (ix.type === InteractionType.ApplicationCommand) {
        meta['name'] = ix.payload['data']?.['name'];
        meta['command_type'] = ix.payload['data']?.['type'];
      }
      if (ix.sourceMessageId) meta['interacted_message_id'] = ix.sourceMessageId;
      if (m.source === 'followup' && ix.originalMessageId) meta['original_response_message_id'] = ix.originalMessageId;
      out['interaction_metadata'] = meta;
    }
    return out;
  }

  /** @internal MESSAGE_* dispatches, only to sessions with the message intents (never for ephemeral). */
  dispatchMessageEvent(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', m: FakeMessage): void {
    if (m.ephemeral) return;
    const intent = m.guild_id ? Intents.GuildMessages : Intents.DirectMessages;
    if (t === 'MESSAGE_DELETE') {
      this.gateway.dispatch(t, { id: m.id, channel_id: m.channel_id, ...(m.guild_id ? { guild_id: m.guild_id } : {}) }, intent);
      return;
    }
    const d = this.world.apiMessage(m, { withGuildId: true });
    const member = m.guild_id ? this.world.guilds.get(m.guild_id)?.members.get(m.author.id) : undefined;
    if (member) d['member'] = this.world.apiMember(member, false);
    this.gateway.dispatch(t, d, intent);
  }

  message(id: string): FakeMessage | undefined {
    return this.world.messages.get(id);
  }

  allMessages(): FakeMessage[] {
    return [...this.world.messages.values()];
  }

  /** Messages in a channel, oldest first; ephemeral and deleted ones only on request. */
  messagesIn(channel: string | { id: string }, opts: MessagesInOptions = {}): FakeMessage[] {
    const id = typeof channel === 'string' ? channel : channel.id;
    return this.allMessages().filter((m) => m.channel_id === id && (opts.includeEphemeral || !m.ephemeral) && (opts.includeDeleted || !m.deleted));
  }

  /** The bot's DM channel with a user (created on first use). */
  dmChannelOf(userId: string): FakeChannel {
    return this.world.dmChannelOf(userId);
  }

  /** A user deletes a message: later GET/PATCH/DELETE on it → 404 10008. */
  userDeletesMessage(id: string): void {
    const m = this.world.messages.get(id);
    if (!m) throw new Error(`fake discord: unknown message ${id}`);
    m.deleted = true;
    m.deletedBy = 'user';
    this.dispatchMessageEvent('MESSAGE_DELETE', m);
  }

  /** A user posts a message (e.g. as a context-menu target). */
  userSendsMessage(opts: { channelId?: string; user?: FakeUser | string; content?: string; attachments?: AttachmentInput[] } = {}): FakeMessage {
    const channelId = opts.channelId ?? this.channel.id;
    const user = typeof opts.user === 'string' ? this.world.users.get(opts.user) : (opts.user ?? this.alice);
    if (!user) throw new Error(`fake discord: unknown user ${String(opts.user)}`);
    const m = this.world.createMessage({
      channelId,
      author: user,
      source: 'user',
      content: opts.content ?? '',
      attachments: (opts.attachments ?? []).map((a) => this.world.makeAttachment(channelId, a)),
    });
    this.dispatchMessageEvent('MESSAGE_CREATE', m);
    return m;
  }

  // ---- interactions ------------------------------------------------------------------------

  private inject(kind: InteractionKind, type: number, ctx: ResolvedContext, data: Json, extra: { sourceMessage?: FakeMessage } = {}): FakeInteraction {
    if (!this.gateway.hasSession()) throw new Error('fake discord: no gateway session — log the discord.js client in first');
    const id = this.world.ids.next();
    const token = newToken();
    const payload = basePayload(this, ctx, id, token, type);
    payload['data'] = data;
    if (extra.sourceMessage) payload['message'] = this.messageJson(extra.sourceMessage);
    const ix = new FakeInteraction(
      this,
      id,
      token,
      type,
      kind,
      this.now(),
      payload,
      ctx.user.id,
      ctx.channel.id,
      ctx.guild?.id ?? null,
      extra.sourceMessage?.id ?? null,
      ctx.attachmentSizeLimit,
    );
    this.interactionsById.set(id, ix);
    this.interactionsByToken.set(token, ix);
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    return ix;
  }

  private commandData(name: string, type: number, ctx: ResolvedContext, commandId?: string): Json {
    const cmd = this.world.findCommand(name, ctx.guild?.id ?? null, type);
    const data: Json = { id: commandId ?? cmd?.id ?? this.world.commandId('unregistered', type, name), name, type };
    if (cmd?.guild_id) data['guild_id'] = cmd.guild_id;
    return data;
  }

  /** A chat-input command (type 2, data.type 1). */
  slash(opts: SlashInput): FakeInteraction {
    const ctx = resolveContext(this, opts);
    const { options, resolved } = buildOptions(this, ctx, opts);
    const data = this.commandData(opts.name, 1, ctx, opts.commandId);
    if (options.length > 0) data['options'] = options;
    if (Object.keys(resolved).length > 0) data['resolved'] = resolved;
    return this.inject('slash', InteractionType.ApplicationCommand, ctx, data);
  }

  /** An autocomplete request (type 4) with `focused` marking the option being typed. */
  autocomplete(opts: AutocompleteInput): FakeInteraction {
    const ctx = resolveContext(this, opts);
    const { options } = buildOptions(this, ctx, opts);
    const data = this.commandData(opts.name, 1, ctx, opts.commandId);
    data['options'] = options;
    return this.inject('autocomplete', InteractionType.Autocomplete, ctx, data);
  }

  private componentContext(o: ClickButtonInput): { msg: FakeMessage; comp: Json | undefined; ctx: ResolvedContext } {
    const msg = this.world.messages.get(o.messageId);
    if (!msg || msg.deleted) throw new Error(`fake discord: message ${o.messageId} does not exist (or was deleted)`);
    const comp = findComponent(msg.components, o.customId);
    if (!o.force && !comp) throw new Error(`fake discord: message ${msg.id} has no component "${o.customId}"`);
    if (!o.force && comp?.['disabled'] === true) throw new Error(`fake discord: component "${o.customId}" is disabled`);
    const input: ContextInput = { channelId: msg.channel_id };
    if (o.user !== undefined) input.user = o.user;
    if (o.locale !== undefined) input.locale = o.locale;
    if (o.permissions !== undefined) input.permissions = o.permissions;
    if (o.attachmentSizeLimit !== undefined) input.attachmentSizeLimit = o.attachmentSizeLimit;
    return { msg, comp, ctx: resolveContext(this, input) };
  }

  /** A button press (type 3, component_type 2) on a stored message. */
  clickButton(o: ClickButtonInput): FakeInteraction {
    const { msg, comp, ctx } = this.componentContext(o);
    const data: Json = { custom_id: o.customId, component_type: Number(comp?.['type'] ?? 2) };
    if (typeof comp?.['id'] === 'number') data['id'] = comp['id'];
    return this.inject('button', InteractionType.MessageComponent, ctx, data, { sourceMessage: msg });
  }

  /** A select-menu choice (type 3, component_type of the menu). */
  selectMenu(o: SelectInput): FakeInteraction {
    const { msg, comp, ctx } = this.componentContext(o);
    const data: Json = { custom_id: o.customId, component_type: Number(comp?.['type'] ?? 3), values: o.values };
    if (typeof comp?.['id'] === 'number') data['id'] = comp['id'];
    return this.inject('select', InteractionType.MessageComponent, ctx, data, { sourceMessage: msg });
  }

  /** The most recent interaction that showed a modal with this custom_id (optionally to a user). */
  private modalSource(customId: string, userId?: string): FakeInteraction | undefined {
    const all = [...this.interactionsById.values()].reverse();
    return all.find((ix) => ix.modal()?.['custom_id'] === customId && (userId === undefined || ix.userId === userId));
  }

  /** A modal submission (type 5), mirroring the shown modal's layout; files go to data.resolved.attachments. */
  submitModal(o: SubmitModalInput): FakeInteraction {
    const userId = o.user === undefined ? undefined : typeof o.user === 'string' ? o.user : o.user.id;
    const source = this.modalSource(o.customId, userId);
    const input: ContextInput = { ...o };
    if (input.user === undefined && source) input.user = source.userId;
    if (input.channelId === undefined && input.guildId === undefined && source) {
      input.channelId = source.channelId;
      if (source.guildId === null) input.guildId = null;
    }
    const ctx = resolveContext(this, input);
    const resolvedAttachments: Json = {};
    const fileIds: Record<string, string[]> = {};
    for (const [customId, list] of Object.entries(o.files ?? {})) {
      fileIds[customId] = list.map((f) => {
        const att = this.world.makeAttachment(ctx.channel.id, f, { ephemeral: true });
        resolvedAttachments[att.id] = this.world.apiAttachment(att);
        return att.id;
      });
    }
    const components = modalSubmitComponents(source?.modal()?.['components'] as unknown[] | undefined, {
      fields: o.fields ?? {},
      fileIds,
    });
    const data: Json = { custom_id: o.customId, components };
    if (Object.keys(resolvedAttachments).length > 0) data['resolved'] = { attachments: resolvedAttachments };
    const sourceMessageId = o.messageId ?? source?.sourceMessageId ?? undefined;
    const sourceMessage = sourceMessageId ? this.world.messages.get(sourceMessageId) : undefined;
    if (sourceMessageId && !sourceMessage) throw new Error(`fake discord: unknown message ${sourceMessageId}`);
    return this.inject('modal', InteractionType.ModalSubmit, ctx, data, sourceMessage ? { sourceMessage } : {});
  }

  /** A message context-menu command (type 2, data.type 3) on a stored message. */
  messageCommand(o: MessageCommandInput): FakeInteraction {
    const msg = this.world.messages.get(o.targetMessageId);
    if (!msg) throw new Error(`fake discord: unknown message ${o.targetMessageId}`);
    const ctx = resolveContext(this, { ...o, channelId: o.channelId ?? msg.channel_id });
    const data = this.commandData(o.name, 3, ctx);
    data['target_id'] = msg.id;
    data['resolved'] = { messages: { [msg.id]: this.messageJson(msg) } };
    return this.inject('messageCommand', InteractionType.ApplicationCommand, ctx, data);
  }

  /** A user context-menu command (type 2, data.type 2). */
  userCommand(o: UserCommandInput): FakeInteraction {
    const target = this.world.users.get(o.targetUserId);
    if (!target) throw new Error(`fake discord: unknown user ${o.targetUserId}`);
    const ctx = resolveContext(this, o);
    const data = this.commandData(o.name, 2, ctx);
    data['target_id'] = target.id;
    const resolved: Json = { users: { [target.id]: this.world.apiUser(target) } };
    const member = ctx.guild?.members.get(target.id);
    if (member) resolved['members'] = { [target.id]: this.world.apiMember(member, false) };
    data['resolved'] = resolved;
    return this.inject('userCommand', InteractionType.ApplicationCommand, ctx, data);
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** Expires an interaction's token now: callbacks → 10062, webhook routes → 50027. */
  expireToken(interactionId: string): void {
    const ix = this.interactionsById.get(interactionId);
    if (!ix) throw new Error(`fake discord: unknown interaction ${interactionId}`);
    ix.expired = true;
  }

  closeDms(userId: string): void {
    this.world.closedDms.add(userId);
  }

  openDms(userId: string): void {
    this.world.closedDms.delete(userId);
  }

  /** The next `n` DM-channel opens fail with 400 {code: 40003}. */
  dmOpenTooFast(n = 1): void {
    this.dmTooFastRemaining += n;
  }

  /** The next matching request(s) fail with the given status and Discord error. */
  failNext(rule: FailRule): void {
    this.failRules.push({ ...rule, remaining: rule.times ?? 1 });
  }

  /** Drops every pending failNext rule (the outage is over). */
  clearFailures(): void {
    this.failRules = [];
  }

  /** @internal */
  takeFailRule(method: string, path: string): FailRule | null {
    for (const r of this.failRules) {
      if (r.remaining <= 0) continue;
      if (r.method && r.method.toUpperCase() !== method) continue;
      r.pathPattern.lastIndex = 0;
      if (!r.pathPattern.test(path)) continue;
      r.remaining--;
      this.failRules = this.failRules.filter((x) => x.remaining > 0);
      return r;
    }
    return null;
  }

  /** Adds a rate-limit rule (active even when `rateLimits` is off). */
  setRateLimit(rule: RateLimitRule): void {
    this.limiter.add(rule);
  }

  /** Turns the built-in buckets and the global limit on or off. */
  enableRateLimits(on = true): void {
    this.limiter.enabled = on;
  }

  get rejectInvalidBodies(): boolean {
    return this.options.rejectInvalidBodies;
  }

  // ---- gateway -------------------------------------------------------------------------------

  get gatewayConnected(): boolean {
    return this.gateway.connected;
  }
  get identifies(): number {
    return this.gateway.identifies;
  }
  get resumes(): number {
    return this.gateway.resumes;
  }
  /** Heartbeats received (all ACKed). */
  get heartbeats(): number {
    return this.gateway.heartbeats;
  }

  /** Closes the gateway connection(s) with `code` (4000: the client resumes). */
  disconnectGateway(code = 4000): void {
    this.gateway.disconnect(code);
  }

  /** Outage: drops connections and refuses new ones (HTTP 503) until startGateway(). */
  stopGateway(): void {
    this.gateway.stop();
  }

  /** Ends the outage; with `invalidateSessions` the client must IDENTIFY again. */
  startGateway(opts: { invalidateSessions?: boolean } = {}): void {
    this.gateway.start(opts);
  }

  /** Stop (false) or resume (true) ACKing heartbeats, to provoke the client's zombie-connection handling. */
  setHeartbeatAcks(on: boolean): void {
    this.gateway.ackHeartbeats = on;
  }

  /** Sends op 7 RECONNECT. */
  requestReconnect(): void {
    this.gateway.requestReconnect();
  }

  /** Sends op 9 (not resumable): the client re-identifies. */
  invalidateSessions(): void {
    this.gateway.invalidateSessions();
  }

  /** Sends an arbitrary dispatch event to every session. */
  dispatch(t: string, d: unknown, intentBit?: number): number {
    return this.gateway.dispatch(t, d, intentBit);
  }

  private readyPayload(sessionId: string, shard: [number, number]): Json {
    return {
      v: 10,
      user: { ...this.world.apiUser(this.botUser), verified: true, mfa_enabled: false, email: null },
      user_settings: {},
      guilds: [...this.world.guilds.values()].filter((g) => shardOf(g.id, shard[1]) === shard[0]).map((g) => ({ id: g.id, unavailable: true })),
      presences: [],
      private_channels: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['fake'],
      session_id: sessionId,
      session_type: 'normal',
      resume_gateway_url: this.gatewayUrl,
      shard,
      application: { id: this.applicationId, flags: 0 },
      auth: {},
      _trace: ['["fake-gateway",{}]'],
    };
  }

  /** @internal GET /applications/@me */
  applicationJson(): Json {
    return {
      id: this.applicationId,
      name: this.botUser.username,
      icon: null,
      description: '',
      summary: '',
      type: null,
      bot_public: true,
      bot_require_code_grant: false,
      verify_key: randomBytes(32).toString('hex'),
      flags: 0,
      owner: this.world.apiUser(this.owner),
      team: null,
      bot: this.world.apiUser(this.botUser),
      approximate_guild_count: this.world.guilds.size,
      approximate_user_install_count: 0,
      integration_types_config: { '0': {} },
      redirect_uris: [],
      interactions_endpoint_url: null,
      tags: [],
    };
  }

  // ---- attachments ------------------------------------------------------------------------------

  private serveAttachment(req: IncomingMessage, res: ServerResponse, url: URL): void {
    req.resume();
    const rel = url.pathname.replace(/^\/(media\/)?attachments\//, '');
    const parts = rel.split('/').map((p) => decodeURIComponent(p));
    const path = parts.join('/');
    const att = req.method === 'GET' || req.method === 'HEAD' ? this.world.resolveAttachmentUrl(path, url.searchParams) : null;
    this.attachmentDownloads.push({ path, status: att ? 200 : 404, at: this.now() });
    if (!att) {
      const text = 'This content is no longer available.';
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': String(text.length) });
      res.end(text);
      return;
    }
    res.writeHead(200, {
      'Content-Type': att.content_type ?? 'application/octet-stream',
      'Content-Length': String(att.bytes.length),
    });
    res.end(req.method === 'HEAD' ? undefined : att.bytes);
  }

  // ---- utilities -------------------------------------------------------------------------------

  /** @internal */
  log(line: string): void {
    this.options.log?.(line);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(
        () => {
          this.sleepers.delete(t);
          resolve();
        },
        Math.max(0, ms),
      );
      this.sleepers.set(t, resolve);
    });
  }

  /** Polls `predicate` until it returns a truthy value (bounded; rejects on timeout or close()). */
  async waitFor<T>(predicate: () => T | undefined | null | false | Promise<T | undefined | null | false>, opts: WaitOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const intervalMs = opts.intervalMs ?? 20;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.closed) throw new Error('fake discord: closed while waiting');
      const v = await predicate();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`fake discord: waitFor timed out after ${timeoutMs} ms`);
      await this.sleep(Math.min(intervalMs, left));
    }
  }

  /** Stops everything: gateway, HTTP server, pending waits. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [t, resolve] of this.sleepers) {
      clearTimeout(t);
      resolve();
    }
    this.sleepers.clear();
    this.gateway.close();
    await this.server.close();
  }
}

export async function startFakeDiscord(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const fake = new FakeDiscord(opts);
  await fake.listen();
  return fake;
}
