// Building INTERACTION_CREATE payloads the way Discord sends them (slash commands with typed
// options and resolved attachments, buttons, selects, modal submits, context menus,
// autocomplete) and the FakeInteraction handle tests use to inspect responses.
import { randomBytes } from 'node:crypto';
import { channelPermissions, DEFAULT_EVERYONE, P } from './permissions.js';
import type { World } from './state.js';
import type { AttachmentInput, FakeAttachment, FakeChannel, FakeGuild, FakeMessage, FakeRole, FakeUser, RecordedCallback, WaitOptions } from './types.js';

type Json = Record<string, any>;

export const InteractionType = { Ping: 1, ApplicationCommand: 2, MessageComponent: 3, Autocomplete: 4, ModalSubmit: 5 } as const;

export interface InteractionHost {
  readonly world: World;
  now(): number;
  waitFor<T>(predicate: () => T | undefined | null | false, opts?: WaitOptions): Promise<T>;
  messageJson(m: FakeMessage): Json;
  defaultGuild(): FakeGuild;
  defaultChannel(): FakeChannel;
  defaultUser(): FakeUser;
  readonly defaultAttachmentSizeLimit: number;
}

export type InteractionKind = 'slash' | 'autocomplete' | 'button' | 'select' | 'modal' | 'messageCommand' | 'userCommand';

export class FakeInteraction {
  /** Every callback request received for this interaction, accepted or not. */
  readonly callbacks: RecordedCallback[] = [];
  acknowledged = false;
  /** Type of the accepted initial response. */
  responseType: number | null = null;
  /** The @original message (own response, or the component's message after type 6/7). */
  originalMessageId: string | null = null;
  readonly followupIds: string[] = [];
  expired = false;

  constructor(
    private readonly host: InteractionHost,
    readonly id: string,
    readonly token: string,
    readonly type: number,
    readonly kind: InteractionKind,
    /** Dispatch time (fake clock, ms epoch). */
    readonly sentAt: number,
    /** The INTERACTION_CREATE `d` as sent. */
    readonly payload: Json,
    readonly userId: string,
    readonly channelId: string,
    readonly guildId: string | null,
    /** The message a component (or a modal opened from one) belongs to. */
    readonly sourceMessageId: string | null,
    readonly attachmentSizeLimit: number,
  ) {}

  /** Waits for the first callback request (accepted or rejected). */
  async firstCallback(timeoutMs = 5000): Promise<RecordedCallback> {
    try {
      return await this.host.waitFor(() => this.callbacks[0], { timeoutMs, intervalMs: 5 });
    } catch {
      throw new Error(`fake discord: interaction ${this.kind} ${this.id} got no callback within ${timeoutMs} ms`);
    }
  }

  /** The accepted initial response, if any. */
  initialResponse(): RecordedCallback | undefined {
    return this.callbacks.find((c) => c.accepted);
  }

  /** The @original message (after a type 4/5 callback, or the component message after 6/7). */
  original(): FakeMessage | undefined {
    return this.originalMessageId ? this.host.world.messages.get(this.originalMessageId) : undefined;
  }

  followups(): FakeMessage[] {
    return this.followupIds.flatMap((id) => {
      const m = this.host.world.messages.get(id);
      return m ? [m] : [];
    });
  }

  /** The modal shown in response (type 9 callback data), if any. */
  modal(): Json | undefined {
    return this.callbacks.find((c) => c.accepted && c.type === 9)?.data as Json | undefined;
  }

  /** Choices answered to an autocomplete interaction (type 8). */
  choices(): unknown[] | undefined {
    const cb = this.callbacks.find((c) => c.accepted && c.type === 8);
    return (cb?.data as Json | undefined)?.['choices'];
  }
}

export function newToken(): string {
  for (;;) {
    const t = `aW50ZXJhY3Rpb246${randomBytes(48).toString('base64url')}`;
    // @discordjs/rest replaces 17–19 digit runs with :id when bucketing; keep tokens free of them.
    if (!/\d{17}/.test(t)) return t;
  }
}

// ---- context (who, where) -----------------------------------------------------------------

export interface ContextInput {
  user?: FakeUser | string;
  channelId?: string;
  /** null = DM with the bot. */
  guildId?: string | null;
  locale?: string;
  /** Overrides the member's computed channel permissions. */
  permissions?: string | number | bigint;
  /** Overrides app_permissions. */
  appPermissions?: string | number | bigint;
  attachmentSizeLimit?: number;
}

export interface ResolvedContext {
  user: FakeUser;
  channel: FakeChannel;
  guild: FakeGuild | null;
  locale: string;
  memberPermissions: string | null;
  appPermissions: string;
  attachmentSizeLimit: number;
}

const DM_APP_PERMISSIONS =
  P.ViewChannel | P.SendMessages | P.EmbedLinks | P.AttachFiles | P.ReadMessageHistory | P.AddReactions | P.UseExternalEmojis | P.UseApplicationCommands;

function userOf(host: InteractionHost, u: FakeUser | string | undefined): FakeUser {
  if (u === undefined) return host.defaultUser();
  if (typeof u !== 'string') return u;
  const found = host.world.users.get(u);
  if (!found) throw new Error(`fake discord: unknown user ${u}`);
  return found;
}

export function resolveContext(host: InteractionHost, input: ContextInput, fallbackChannelId?: string): ResolvedContext {
  const world = host.world;
  const user = userOf(host, input.user);
  const base = {
    user,
    locale: input.locale ?? 'en-US',
    attachmentSizeLimit: input.attachmentSizeLimit ?? host.defaultAttachmentSizeLimit,
  };
  if (input.guildId === null) {
    return {
      ...base,
      channel: world.dmChannelOf(user.id),
      guild: null,
      memberPermissions: null,
      appPermissions: String(input.appPermissions ?? DM_APP_PERMISSIONS),
    };
  }
  const channelId = input.channelId ?? fallbackChannelId;
  let channel = channelId ? world.channels.get(channelId) : undefined;
  if (channelId && !channel) throw new Error(`fake discord: unknown channel ${channelId}`);
  if (channel?.type === 1) {
    return {
      ...base,
      channel,
      guild: null,
      memberPermissions: null,
      appPermissions: String(input.appPermissions ?? DM_APP_PERMISSIONS),
    };
  }
  const guild = input.guildId ? world.requireGuild(input.guildId) : channel?.guild_id ? world.requireGuild(channel.guild_id) : host.defaultGuild();
  channel ??= guild.id === host.defaultGuild().id ? host.defaultChannel() : guild.channels.find((c) => c.type === 0);
  if (!channel) throw new Error(`fake discord: guild ${guild.id} has no text channel`);
  if (!guild.members.has(user.id)) throw new Error(`fake discord: user ${user.username} is not a member of guild ${guild.name}`);
  return {
    ...base,
    channel,
    guild,
    memberPermissions: String(input.permissions ?? channelPermissions(guild, channel, user.id)),
    appPermissions: String(input.appPermissions ?? channelPermissions(guild, channel, world.botUser.id)),
  };
}

export function basePayload(host: InteractionHost, ctx: ResolvedContext, id: string, token: string, type: number): Json {
  const world = host.world;
  const p: Json = {
    id,
    application_id: world.applicationId,
    type,
    token,
    version: 1,
    channel_id: ctx.channel.id,
    channel: world.apiChannel(ctx.channel),
    app_permissions: ctx.appPermissions,
    locale: ctx.locale,
    entitlements: [],
    entitlement_sku_ids: [],
    attachment_size_limit: ctx.attachmentSizeLimit,
  };
  if (ctx.guild) {
    const member = ctx.guild.members.get(ctx.user.id);
    p['guild_id'] = ctx.guild.id;
    p['guild'] = { id: ctx.guild.id, locale: ctx.guild.preferred_locale, features: [] };
    p['guild_locale'] = ctx.guild.preferred_locale;
    p['member'] = { ...(member ? world.apiMember(member) : {}), user: world.apiUser(ctx.user), permissions: ctx.memberPermissions };
    p['authorizing_integration_owners'] = { '0': ctx.guild.id };
    p['context'] = 0;
  } else {
    p['user'] = world.apiUser(ctx.user);
    p['authorizing_integration_owners'] = { '0': '0' };
    p['context'] = 1;
  }
  return p;
}

// ---- application command options ----------------------------------------------------------

export interface RawOption {
  name: string;
  type: number;
  value?: unknown;
  options?: RawOption[];
  focused?: boolean;
}

export type OptionInput =
  | string
  | number
  | boolean
  /** A new file, or an index / file name into `attachments`. */
  | { attachment: AttachmentInput | number | string }
  | { user: FakeUser | string }
  | { channel: FakeChannel | string }
  | { role: FakeRole | string }
  | { type: number; value: unknown };

export interface OptionsInput {
  options?: Record<string, OptionInput> | RawOption[] | undefined;
  subcommand?: string | undefined;
  subcommandGroup?: string | undefined;
  /** Files for attachment options given as raw options: value = index or filename (or omit to take them in order). */
  attachments?: AttachmentInput[] | undefined;
  /** Autocomplete: the option being typed. */
  focused?: string | undefined;
}

function idOf(x: { id: string } | string): string {
  return typeof x === 'string' ? x : x.id;
}

export function buildOptions(host: InteractionHost, ctx: ResolvedContext, input: OptionsInput): { options: RawOption[]; resolved: Json } {
  const world = host.world;
  const resolved: Json = {};
  const put = (kind: string, id: string, value: unknown) => {
    (resolved[kind] ??= {})[id] = value;
  };
  const makeAtt = (a: AttachmentInput): FakeAttachment => {
    const att = world.makeAttachment(ctx.channel.id, a, { ephemeral: true });
    put('attachments', att.id, world.apiAttachment(att));
    return att;
  };
  const resolveUser = (userId: string) => {
    const u = world.users.get(userId);
    if (!u) throw new Error(`fake discord: unknown user ${userId}`);
    put('users', u.id, world.apiUser(u));
    const m = ctx.guild?.members.get(u.id);
    if (ctx.guild && m) {
      put('members', u.id, { ...world.apiMember(m, false), permissions: String(channelPermissions(ctx.guild, ctx.channel, u.id)) });
    }
  };
  const resolveChannel = (channelId: string) => {
    const c = world.channels.get(channelId);
    if (!c) throw new Error(`fake discord: unknown channel ${channelId}`);
    put('channels', c.id, { ...world.apiChannel(c), permissions: String(ctx.guild ? channelPermissions(ctx.guild, c, ctx.user.id) : DEFAULT_EVERYONE) });
  };
  const resolveRole = (roleId: string) => {
    const r = ctx.guild?.roles.find((x) => x.id === roleId);
    if (!r) throw new Error(`fake discord: unknown role ${roleId}`);
    put('roles', r.id, world.apiRole(r));
  };

  const files = input.attachments ?? [];
  const created = new Map<number, FakeAttachment>();
  let nextAuto = 0;
  const createdFor = (idx: number): string => {
    const file = files[idx];
    if (!file) throw new Error(`fake discord: attachment option refers to missing file #${idx}`);
    let att = created.get(idx);
    if (!att) {
      att = makeAtt(file);
      created.set(idx, att);
    }
    return att.id;
  };
  const attachmentFor = (value: unknown): string => {
    if (typeof value === 'number') return createdFor(value);
    if (typeof value === 'string') {
      const byName = files.findIndex((f) => f.name === value);
      if (byName >= 0) return createdFor(byName);
      for (const a of world.attachmentsByPath.values()) {
        if (a.id === value) {
          put('attachments', a.id, world.apiAttachment(a));
          return a.id;
        }
      }
      throw new Error(`fake discord: attachment option value ${value} is neither a file name nor an attachment id`);
    }
    return createdFor(nextAuto++);
  };

  let options: RawOption[];
  const given = input.options;
  if (Array.isArray(given)) {
    const mapRaw = (o: RawOption): RawOption => {
      const out: RawOption = { name: o.name, type: o.type };
      if (o.options) out.options = o.options.map(mapRaw);
      if (o.focused) out.focused = true;
      if (o.type === 11) out.value = attachmentFor(o.value);
      else if (o.value !== undefined) out.value = o.value;
      if (o.type === 6 && typeof o.value === 'string') resolveUser(o.value);
      if (o.type === 7 && typeof o.value === 'string') resolveChannel(o.value);
      if (o.type === 8 && typeof o.value === 'string') resolveRole(o.value);
      if (o.type === 9 && typeof o.value === 'string') {
        if (world.users.has(o.value)) resolveUser(o.value);
        else resolveRole(o.value);
      }
      return out;
    };
    options = given.map(mapRaw);
  } else {
    options = Object.entries(given ?? {}).map(([name, v]): RawOption => {
      if (typeof v === 'string') return { name, type: 3, value: v };
      if (typeof v === 'boolean') return { name, type: 5, value: v };
      if (typeof v === 'number') return { name, type: Number.isInteger(v) ? 4 : 10, value: v };
      if ('attachment' in v) {
        const a = v.attachment;
        return { name, type: 11, value: typeof a === 'object' ? makeAtt(a).id : attachmentFor(a) };
      }
      if ('user' in v) {
        resolveUser(idOf(v.user));
        return { name, type: 6, value: idOf(v.user) };
      }
      if ('channel' in v) {
        resolveChannel(idOf(v.channel));
        return { name, type: 7, value: idOf(v.channel) };
      }
      if ('role' in v) {
        resolveRole(idOf(v.role));
        return { name, type: 8, value: idOf(v.role) };
      }
      return { name, type: v.type, value: v.value };
    });
  }
  if (created.size < files.length) {
    throw new Error(
      'fake discord: `attachments` given but not all are referenced by an attachment option ' +
        '(use options: { image: { attachment: 0 } } or a raw option { name, type: 11, value: 0 | "file name" })',
    );
  }
  if (input.focused) {
    for (const o of options) {
      if (o.name === input.focused) {
        o.focused = true;
        o.value = String(o.value ?? '');
      }
    }
  }
  if (input.subcommand) options = [{ name: input.subcommand, type: 1, options }];
  if (input.subcommandGroup) options = [{ name: input.subcommandGroup, type: 2, options }];
  return { options, resolved };
}

// ---- components and modals ------------------------------------------------------------------

/** Finds a component by custom_id anywhere in a message's component tree. */
export function findComponent(components: unknown, customId: string): Json | undefined {
  const stack: unknown[] = Array.isArray(components) ? [...components] : [];
  while (stack.length > 0) {
    const c = stack.shift() as Json | undefined;
    if (!c || typeof c !== 'object') continue;
    if (c['custom_id'] === customId) return c;
    if (Array.isArray(c['components'])) stack.push(...c['components']);
    if (c['component']) stack.push(c['component']);
    if (c['accessory']) stack.push(c['accessory']);
  }
  return undefined;
}

export interface ModalFieldsInput {
  fields: Record<string, string | string[]>;
  fileIds: Record<string, string[]>;
}

/**
 * The `data.components` of a MODAL_SUBMIT, mirroring the shown modal's layout (legacy action
 * rows or Label (18) wrappers, text displays kept as `{type: 10, id}`); without a known modal,
 * every field is sent in a Label.
 */
export function modalSubmitComponents(modalComponents: unknown[] | undefined, input: ModalFieldsInput): Json[] {
  let nextId = 1;
  const used = new Set<string>();
  const leaf = (c: Json): Json => {
    const customId = String(c['custom_id'] ?? '');
    const type = Number(c['type']);
    const out: Json = { type, id: typeof c['id'] === 'number' ? c['id'] : nextId++, custom_id: customId };
    used.add(customId);
    const given = input.fields[customId];
    if (type === 4) out['value'] = Array.isArray(given) ? given.join('') : (given ?? '');
    else if (type === 19) out['values'] = input.fileIds[customId] ?? [];
    else if (type === 23) out['value'] = given === 'true' || (Array.isArray(given) && given[0] === 'true');
    else if (type === 21) out['value'] = Array.isArray(given) ? (given[0] ?? null) : (given ?? null);
    else out['values'] = Array.isArray(given) ? given : given !== undefined ? [given] : [];
    return out;
  };
  let out: Json[];
  if (modalComponents && modalComponents.length > 0) {
    out = modalComponents.map((raw) => {
      const c = raw as Json;
      const id = typeof c['id'] === 'number' ? c['id'] : nextId++;
      if (c['type'] === 1) return { type: 1, id, components: ((c['components'] as Json[] | undefined) ?? []).map(leaf) };
      if (c['type'] === 18 && c['component']) return { type: 18, id, component: leaf(c['component'] as Json) };
      return { type: Number(c['type']), id };
    });
  } else {
    out = [];
  }
  for (const [customId, value] of Object.entries(input.fields)) {
    if (used.has(customId)) continue;
    if (modalComponents && modalComponents.length > 0) throw new Error(`fake discord: the shown modal has no field "${customId}"`);
    out.push({ type: 18, id: nextId++, component: leaf({ type: 4, custom_id: customId, value }) });
  }
  for (const customId of Object.keys(input.fileIds)) {
    if (used.has(customId)) continue;
    if (modalComponents && modalComponents.length > 0) throw new Error(`fake discord: the shown modal has no file upload "${customId}"`);
    out.push({ type: 18, id: nextId++, component: leaf({ type: 19, custom_id: customId }) });
  }
  return out;
}
