// Turning message payloads (JSON or payload_json + files) into stored messages, with the
// checks Discord itself applies (empty message, lengths, component limits, file sizes) and
// Discord's edit semantics for `attachments`.
import { DiscordHttpError, Errors, fieldError } from './errors.js';
import { fileIndex } from './http.js';
import { pingedUsers, type World } from './state.js';
import type { FakeAttachment, FakeMessage, FakeUser, MessageSource, RecordedFile } from './types.js';

/** How long Discord remembers an enforced nonce (a few minutes; not documented exactly). */
const NONCE_WINDOW_MS = 5 * 60_000;

type Json = Record<string, any>;

export const FLAG_SUPPRESS_EMBEDS = 1 << 2;
export const FLAG_EPHEMERAL = 1 << 6;
export const FLAG_LOADING = 1 << 7;
export const FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12;
export const FLAG_COMPONENTS_V2 = 1 << 15;

/** Flags a client may set on create / edit. */
const CREATE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2;
const EDIT_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2;

function asObject(body: unknown): Json {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Json) : {};
}

function invalid(path: (string | number)[], code: string, message: string): DiscordHttpError {
  return Errors.invalidFormBody(fieldError(path, code, message));
}

/** Walks components (rows, containers, sections, labels) and yields every nested one. */
export function* walkComponents(components: unknown): Generator<Json> {
  if (!Array.isArray(components)) return;
  for (const c of components) {
    if (!c || typeof c !== 'object') continue;
    const comp = c as Json;
    yield comp;
    if (Array.isArray(comp['components'])) yield* walkComponents(comp['components']);
    if (comp['component']) yield* walkComponents([comp['component']]);
    if (comp['accessory']) yield* walkComponents([comp['accessory']]);
  }
}

/** Discord-side checks of the message parts it enforces itself (beyond schema validation). */
export function checkMessageParts(payload: Json, prefix: (string | number)[] = []): void {
  const content = payload['content'];
  if (typeof content === 'string' && content.length > 2000) {
    throw invalid([...prefix, 'content'], 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');
  }
  const embeds = payload['embeds'];
  if (Array.isArray(embeds) && embeds.length > 10) {
    throw invalid([...prefix, 'embeds'], 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
  }
  const components = payload['components'];
  if (!Array.isArray(components)) return;
  const v2 = (Number(payload['flags'] ?? 0) & FLAG_COMPONENTS_V2) !== 0;
  if (!v2 && components.length > 5) {
    throw invalid([...prefix, 'components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  }
  const seen = new Set<string>();
  components.forEach((row, i) => {
    const r = asObject(row);
    if (!v2 && r['type'] === 1 && Array.isArray(r['components']) && r['components'].length > 5) {
      throw invalid([...prefix, 'components', i, 'components'], 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
    }
  });
  for (const c of walkComponents(components)) {
    const id = c['custom_id'];
    if (typeof id !== 'string') continue;
    if (id.length < 1 || id.length > 100) {
      throw invalid([...prefix, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    if (seen.has(id)) throw invalid([...prefix, 'components'], 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
    seen.add(id);
  }
}

function hasVisibleContent(payload: Json, attachmentCount: number): boolean {
  const content = payload['content'];
  return (
    (typeof content === 'string' && content.trim().length > 0) ||
    (Array.isArray(payload['embeds']) && payload['embeds'].length > 0) ||
    (Array.isArray(payload['components']) && payload['components'].length > 0) ||
    (Array.isArray(payload['sticker_ids']) && payload['sticker_ids'].length > 0) ||
    (payload['poll'] !== undefined && payload['poll'] !== null) ||
    attachmentCount > 0
  );
}

/** Builds attachments for uploaded files; payload.attachments entries `{id: index}` can rename/describe them. */
export function uploadAttachments(world: World, channelId: string, payload: Json, files: RecordedFile[], limitBytes: number): Map<number, FakeAttachment> {
  const meta = new Map<string, Json>();
  if (Array.isArray(payload['attachments'])) {
    for (const a of payload['attachments']) {
      const o = asObject(a);
      if (o['id'] !== undefined) meta.set(String(o['id']), o);
    }
  }
  const out = new Map<number, FakeAttachment>();
  files.forEach((f, pos) => {
    if (f.bytes.length > limitBytes) throw Errors.entityTooLarge();
    const index = fileIndex(f, pos);
    const m = meta.get(String(index));
    const input: { name: string; bytes: Buffer; contentType?: string; description?: string } = {
      name: typeof m?.['filename'] === 'string' ? m['filename'] : f.name,
      bytes: f.bytes,
    };
    // A generic part type says nothing: Discord derives the type from the content / extension.
    if (f.contentType && f.contentType !== 'application/octet-stream') input.contentType = f.contentType;
    if (typeof m?.['description'] === 'string') input.description = m['description'];
    out.set(index, world.makeAttachment(channelId, input));
  });
  return out;
}

export interface CreateArgs {
  world: World;
  channelId: string;
  author: FakeUser;
  source: MessageSource;
  payload: unknown;
  files: RecordedFile[];
  limitBytes: number;
  type?: number;
  interactionId?: string | null;
  webhookId?: string | null;
  /** Extra flags (e.g. LOADING for a deferred response). */
  addFlags?: number;
  /** Skip the "empty message" rule (deferred placeholder). */
  allowEmpty?: boolean;
  errorPrefix?: (string | number)[];
}

export function createMessageFromPayload(a: CreateArgs): FakeMessage {
  const payload = asObject(a.payload);
  checkMessageParts(payload, a.errorPrefix);
  const uploaded = uploadAttachments(a.world, a.channelId, payload, a.files, a.limitBytes);
  if (!a.allowEmpty && !hasVisibleContent(payload, uploaded.size)) throw Errors.emptyMessage();
  const ref = asObject(payload['message_reference']);
  let messageReference: FakeMessage['messageReference'] = null;
  if (typeof ref['message_id'] === 'string') {
    const target = a.world.messages.get(ref['message_id']);
    if (!target || target.deleted) {
      if (ref['fail_if_not_exists'] !== false) {
        throw invalid(['message_reference'], 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
      }
    } else {
      messageReference = { message_id: target.id, channel_id: target.channel_id };
      if (target.guild_id) messageReference.guild_id = target.guild_id;
    }
  }
  const nonce = typeof payload['nonce'] === 'string' || typeof payload['nonce'] === 'number' ? payload['nonce'] : null;
  if (nonce !== null && payload['enforce_nonce'] === true) {
    // Discord: a repeated nonce from the same author within a few minutes returns the first message instead
    const since = a.world.now() - NONCE_WINDOW_MS;
    for (const existing of a.world.messages.values()) {
      if (existing.channel_id === a.channelId && existing.nonce === nonce && existing.author.id === a.author.id && existing.createdAt >= since) return existing;
    }
  }
  const msg = a.world.createMessage({
    allowedMentions: payload['allowed_mentions'],
    channelId: a.channelId,
    author: a.author,
    source: a.source,
    content: typeof payload['content'] === 'string' ? payload['content'] : '',
    components: Array.isArray(payload['components']) ? payload['components'] : [],
    embeds: Array.isArray(payload['embeds']) ? payload['embeds'] : [],
    attachments: [...uploaded.values()],
    flags: (Number(payload['flags'] ?? 0) & CREATE_FLAGS) | (a.addFlags ?? 0),
    tts: payload['tts'] === true,
    nonce,
    interactionId: a.interactionId ?? null,
    webhookId: a.webhookId ?? null,
    messageReference,
    ...(a.type !== undefined ? { type: a.type } : messageReference ? { type: 19 } : {}),
  });
  return msg;
}

/**
 * Applies an edit like Discord: only fields present change; `attachments` (when present) is
 * the complete list to keep (existing ids) plus new uploads (ids = file indexes); new files
 * without `attachments` are appended.
 */
export function editMessageFromPayload(world: World, msg: FakeMessage, body: unknown, files: RecordedFile[], limitBytes: number, at: number): FakeMessage {
  const payload = asObject(body);
  checkMessageParts({ ...payload, flags: payload['flags'] ?? msg.flags });
  const uploaded = uploadAttachments(world, msg.channel_id, payload, files, limitBytes);
  let attachments = msg.attachments;
  if (Array.isArray(payload['attachments'])) {
    const keep: FakeAttachment[] = [];
    for (const entry of payload['attachments']) {
      const id = String(asObject(entry)['id'] ?? '');
      const existing = msg.attachments.find((x) => x.id === id);
      if (existing) keep.push(existing);
    }
    attachments = [...keep, ...uploaded.values()];
  } else if (uploaded.size > 0) {
    attachments = [...msg.attachments, ...uploaded.values()];
  }
  const next = {
    content: 'content' in payload ? (typeof payload['content'] === 'string' ? payload['content'] : '') : msg.content,
    embeds: 'embeds' in payload ? (Array.isArray(payload['embeds']) ? payload['embeds'] : []) : msg.embeds,
    components: 'components' in payload ? (Array.isArray(payload['components']) ? payload['components'] : []) : msg.components,
  };
  if (!hasVisibleContent(next, attachments.length)) throw Errors.emptyMessage();
  msg.content = next.content;
  msg.embeds = next.embeds;
  msg.components = next.components;
  msg.attachments = attachments;
  let flags = msg.flags & ~FLAG_LOADING;
  if ('flags' in payload && payload['flags'] !== null) {
    flags = (flags & ~EDIT_FLAGS) | (Number(payload['flags']) & EDIT_FLAGS) | (msg.flags & FLAG_COMPONENTS_V2);
  }
  msg.flags = flags;
  if ('content' in payload) {
    msg.pingedUserIds = pingedUsers(
      [...next.content.matchAll(/<@!?(\d{17,19})>/g)].map((x) => x[1] ?? '').filter((id) => world.users.has(id)),
      payload['allowed_mentions'],
    );
    msg.mentionUserIds = [...msg.content.matchAll(/<@!?(\d{17,19})>/g)].map((x) => x[1] ?? '').filter((id) => world.users.has(id));
    msg.mentionRoleIds = [...msg.content.matchAll(/<@&(\d{17,19})>/g)].map((x) => x[1] ?? '');
    msg.mentionEveryone = /@(everyone|here)/.test(msg.content);
  }
  msg.editedAt = at;
  msg.edits.push({ at, body: files.length > 0 ? { ...payload, files: files.map((f) => f.name) } : body });
  return msg;
}
