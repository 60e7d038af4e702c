import type { REST, RawFile } from '@discordjs/rest';
import { ChannelBudget, type ReserveOptions } from './channelBudget.js';
import { multipartBody } from './multipartBody.js';
import { Routes, type APIActionRowComponent, type APIComponentInMessageActionRow, type APIEmbed, type APIMessage } from 'discord.js';

/** A message as the renderer draws it: plain API JSON plus files, independent of where it is sent. */
export interface MessagePayload {
  content?: string;
  embeds?: APIEmbed[];
  components?: APIActionRowComponent<APIComponentInMessageActionRow>[];
  files?: { name: string; data: Buffer; contentType?: string; description?: string }[];
  /** who may be pinged; default: nobody */
  mentionUsers?: string[];
  /** 64 = ephemeral (interaction replies only) */
  flags?: number;
  /** message nonce; with enforce, Discord refuses a second message with the same nonce (exactly-once posting) */
  nonce?: string;
}

/** Discord's JSON error code of a failed REST call, if any. */
export function discordCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A failure that may pass if the same request is sent later: HTTP 5xx, 408, 429, or no HTTP answer at all. */
export function isTransient(err: unknown): boolean {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status !== 'number') return discordCode(err) === undefined;
  return status >= 500 || status === 408 || status === 429;
}

export const DiscordCodes = {
  unknownChannel: 10003,
  unknownMessage: 10008,
  unknownWebhook: 10015,
  unknownInteraction: 10062,
  maxOldEdits: 30046,
  dmTooFast: 40003,
  tooLarge: 40005,
  alreadyAcknowledged: 40060,
  missingAccess: 50001,
  cannotDm: 50007,
  missingPermissions: 50013,
  invalidWebhookToken: 50027,
  fileTooLarge: 50045,
} as const;

/** Body fields shared by channel messages, webhook edits and interaction responses. */
export function toApiBody(p: MessagePayload): { body: Record<string, unknown>; files: RawFile[] | undefined } {
  const body: Record<string, unknown> = {
    content: p.content ?? '',
    embeds: p.embeds ?? [],
    components: p.components ?? [],
    allowed_mentions: { parse: [], users: p.mentionUsers ?? [] },
  };
  if (p.flags !== undefined) body.flags = p.flags;
  if (p.nonce !== undefined) {
    body.nonce = p.nonce;
    body.enforce_nonce = true;
  }
  let files: RawFile[] | undefined;
  if (p.files && p.files.length > 0) {
    files = p.files.map((f, i) => ({ name: f.name, data: f.data, contentType: f.contentType, key: `files[${i}]` }));
    body.attachments = p.files.map((f, i) => ({ id: String(i), filename: f.name, ...(f.description ? { description: f.description } : {}) }));
  } else {
    body.attachments = [];
  }
  return { body, files };
}

/**
 * Files of at least this many bytes in all go out as one prebuilt multipart body (see multipartBody.ts): handed to
 * @discordjs/rest as `files`, each would be copied into a Blob and copied again when streamed, which for a video
 * result's clips is tens of MB per post. Smaller uploads (and a file of unknown type, whose type the library sniffs)
 * keep the library's own form.
 */
export const PREBUILT_BODY_MIN_BYTES = 1024 * 1024;

/** What @discordjs/rest is given for a message body with its files: the library's form, or one prebuilt body. */
export function toRequestBody(
  body: Record<string, unknown>,
  files: RawFile[] | undefined,
): { body: Record<string, unknown>; files?: RawFile[] } | { body: Buffer; passThroughBody: true; headers: Record<string, string> } {
  if (!files?.length) return { body };
  const parts = files.flatMap((f, i) =>
    f.data instanceof Uint8Array && f.contentType ? [{ key: f.key ?? `files[${i}]`, name: f.name, data: f.data, contentType: f.contentType }] : [],
  );
  const bytes = parts.reduce((n, f) => n + f.data.byteLength, 0);
  if (parts.length < files.length || bytes < PREBUILT_BODY_MIN_BYTES) return { body, files };
  const form = multipartBody(parts, JSON.stringify(body));
  return { body: form.body, passThroughBody: true, headers: { 'Content-Type': form.contentType } };
}

/** The interaction a follow-up belongs to: its webhook is the application's, authorised by the token alone. */
export interface InteractionHook {
  applicationId: string;
  token: string;
}

/**
 * Bot-owned messages through the REST API: works for any channel or DM without discord.js's cache. Channel messages
 * never depend on an interaction token (which dies after 15 minutes); follow-ups use one while it lives, because an
 * interaction's webhook has a rate bucket of its own beside the channel's.
 */
export class Messenger {
  private dmChannels = new Map<string, string>();

  /**
   * Every write waits for a slot in its lane's budget (see ChannelBudget), unless the caller reserved one: channel
   * writes in the channel's (about 5 per 5 s), follow-up writes in their token's (about 5 per 2 s).
   */
  constructor(
    private rest: REST,
    readonly budget: ChannelBudget = new ChannelBudget(),
    // 4 of the token's 5: the interaction's own reply (discord.js edits it) shares the bucket
    readonly hookBudget: ChannelBudget = new ChannelBudget({ perWindow: 4, windowMs: 2250 }),
  ) {}

  async send(channelId: string, payload: MessagePayload, reserve: ReserveOptions = {}): Promise<APIMessage> {
    const { body, files } = toApiBody(payload);
    await this.budget.reserve(channelId, reserve);
    return (await this.rest.post(Routes.channelMessages(channelId), toRequestBody(body, files))) as APIMessage;
  }

  /** Post a follow-up message through the interaction's webhook (in the interaction's channel). */
  async followUp(hook: InteractionHook, payload: MessagePayload): Promise<APIMessage> {
    const { body, files } = toApiBody(payload);
    delete body.nonce; // webhooks take no nonce: exactly-once is the caller's (see Delivery)
    delete body.enforce_nonce;
    await this.hookBudget.reserve(hookLane(hook));
    return (await this.rest.post(Routes.webhook(hook.applicationId, hook.token), {
      ...toRequestBody(body, files),
      query: new URLSearchParams({ wait: 'true' }),
      auth: false,
    })) as APIMessage;
  }

  /** Edit a message the interaction's webhook posted. */
  async editFollowUp(hook: InteractionHook, messageId: string, payload: MessagePayload, opts: { reserved?: boolean } = {}): Promise<APIMessage> {
    const { body, files } = toApiBody(payload);
    delete body.nonce;
    delete body.enforce_nonce;
    delete body.flags;
    if (!opts.reserved) await this.hookBudget.reserve(hookLane(hook));
    return (await this.rest.patch(Routes.webhookMessage(hook.applicationId, hook.token, messageId), {
      ...toRequestBody(body, files),
      auth: false,
    })) as APIMessage;
  }

  /** Edit only the components of a follow-up (e.g. mark a pressed button as used). */
  async editFollowUpComponents(hook: InteractionHook, messageId: string, components: MessagePayload['components']): Promise<void> {
    await this.hookBudget.reserve(hookLane(hook));
    await this.rest.patch(Routes.webhookMessage(hook.applicationId, hook.token, messageId), { body: { components: components ?? [] }, auth: false });
  }

  /** Unlike a channel's deletes, a webhook's share the token's bucket. */
  async deleteFollowUp(hook: InteractionHook, messageId: string): Promise<void> {
    await this.hookBudget.reserve(hookLane(hook));
    await this.rest.delete(Routes.webhookMessage(hook.applicationId, hook.token, messageId), { auth: false });
  }

  /** The channel's latest messages after `afterId` (oldest first is not promised). */
  async messagesAfter(channelId: string, afterId: string, limit = 50): Promise<APIMessage[]> {
    return (await this.rest.get(Routes.channelMessages(channelId), { query: new URLSearchParams({ after: afterId, limit: String(limit) }) })) as APIMessage[];
  }

  async edit(channelId: string, messageId: string, payload: MessagePayload, opts: { reserved?: boolean } = {}): Promise<APIMessage> {
    const { body, files } = toApiBody(payload);
    if (!opts.reserved) await this.budget.reserve(channelId);
    delete body.nonce;
    delete body.enforce_nonce;
    return (await this.rest.patch(Routes.channelMessage(channelId, messageId), toRequestBody(body, files))) as APIMessage;
  }

  /** Edit only the components (e.g. mark a pressed button as used). */
  async editComponents(channelId: string, messageId: string, components: MessagePayload['components']): Promise<void> {
    await this.budget.reserve(channelId);
    await this.rest.patch(Routes.channelMessage(channelId, messageId), { body: { components: components ?? [] } });
  }

  /** Deletes have their own rate-limit bucket in Discord, so they do not spend the channel's write budget. */
  async delete(channelId: string, messageId: string): Promise<void> {
    await this.rest.delete(Routes.channelMessage(channelId, messageId));
  }

  async fetch(channelId: string, messageId: string): Promise<APIMessage> {
    return (await this.rest.get(Routes.channelMessage(channelId, messageId))) as APIMessage;
  }

  /** The DM channel with a user (opened once, then cached). */
  async dmChannel(userId: string): Promise<string> {
    const known = this.dmChannels.get(userId);
    if (known) return known;
    const ch = (await this.rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as { id: string };
    this.dmChannels.set(userId, ch.id);
    return ch.id;
  }

  isDmChannel(channelId: string): boolean {
    for (const id of this.dmChannels.values()) if (id === channelId) return true;
    return false;
  }
}

/** The budget lane of an interaction's webhook (keyed like Discord's bucket: webhook id + token). */
export function hookLane(hook: InteractionHook): string {
  return `hook:${hook.applicationId}:${hook.token}`;
}
