// Public data shapes of the fake Discord (what tests read and pass in).

export interface FakeDiscordOptions {
  /** A first interaction callback later than this → 404 {code: 10062}. Default 3000. */
  interactionWindowMs?: number;
  /** Interaction-token webhook routes after this → 401 {code: 50027}. Default 15 min. */
  tokenLifetimeMs?: number;
  /** HELLO heartbeat_interval. Default 5000. */
  heartbeatIntervalMs?: number;
  /** Validate request bodies against the OpenAPI spec and record problems. Default true. */
  validateOpenApi?: boolean;
  /** Also reject bodies failing OpenAPI validation with 400 {code: 50035}. Default false (record only). */
  rejectInvalidBodies?: boolean;
  /** Emulate per-route buckets and the global limit. Default false. */
  rateLimits?: boolean;
  /** Per-file upload limit for channel messages (interactions use their attachment_size_limit). Default 10 MiB. */
  uploadLimitBytes?: number;
  /** Lifetime of signed attachment URLs (`ex`). Default 24 h. */
  attachmentUrlLifetimeMs?: number;
  /** Path of the OpenAPI spec. Default: the copy in ./spec/openapi.json. */
  openApiSpecPath?: string;
  /** Debug log sink (gateway frames, REST calls). */
  log?: (line: string) => void;
}

export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: string | null;
  bot: boolean;
}

export interface FakeRole {
  id: string;
  name: string;
  /** Permission bitfield as a decimal string. */
  permissions: string;
  color: number;
  position: number;
  hoist: boolean;
  managed: boolean;
  mentionable: boolean;
  /** For a bot's managed role. */
  botId?: string;
}

export interface PermissionOverwrite {
  id: string;
  /** 0 = role, 1 = member */
  type: 0 | 1;
  allow: string;
  deny: string;
}

export interface FakeChannel {
  id: string;
  /** 0 guild text, 1 DM, 4 category, 5 announcement, ... */
  type: number;
  name: string | null;
  guild_id: string | null;
  position: number;
  permission_overwrites: PermissionOverwrite[];
  parent_id: string | null;
  topic: string | null;
  nsfw: boolean;
  rate_limit_per_user: number;
  last_message_id: string | null;
  /** DM channels only. */
  recipients?: FakeUser[];
}

export interface FakeMember {
  userId: string;
  roles: string[];
  nick: string | null;
  joined_at: string;
}

export interface FakeGuild {
  id: string;
  name: string;
  owner_id: string;
  preferred_locale: string;
  joined_at: string;
  /** Includes @everyone (id = guild id) and the bot's managed role. */
  roles: FakeRole[];
  channels: FakeChannel[];
  members: Map<string, FakeMember>;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  content_type: string | null;
  url: string;
  proxy_url: string;
  width?: number;
  height?: number;
  description?: string;
  ephemeral?: boolean;
  /** The uploaded (or injected) bytes; also served at `url`. */
  bytes: Buffer;
}

export type MessageSource = 'channel' | 'interaction' | 'followup' | 'user';

export interface MessageEdit {
  at: number;
  /** The JSON (or payload_json) body of the edit, plus `files` names when files were uploaded. */
  body: unknown;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id: string | null;
  author: FakeUser;
  content: string;
  components: unknown[];
  embeds: unknown[];
  attachments: FakeAttachment[];
  flags: number;
  /** Discord message type (0 default, 19 reply, 20 chat input command, 23 context menu command). */
  type: number;
  tts: boolean;
  nonce: string | number | null;
  createdAt: number;
  editedAt: number | null;
  edits: MessageEdit[];
  deleted: boolean;
  deletedBy: 'user' | 'bot' | null;
  source: MessageSource;
  ephemeral: boolean;
  /** The interaction whose token created it (original response or follow-up). */
  interactionId: string | null;
  webhookId: string | null;
  messageReference: { message_id: string; channel_id: string; guild_id?: string } | null;
  mentionUserIds: string[];
  /** users this message notified: content mentions allowed by allowed_mentions */
  pingedUserIds: string[];
  mentionRoleIds: string[];
  mentionEveryone: boolean;
}

export interface RecordedFile {
  /** Form field, e.g. `files[0]`. */
  field: string;
  name: string;
  contentType: string;
  bytes: Buffer;
}

export interface RecordedCall {
  method: string;
  /** Path below /api/v10, without query. */
  path: string;
  query: Record<string, string>;
  /** Templated route, e.g. 'PATCH /channels/:id/messages/:id'; unknown routes use ':id' for snowflakes. */
  route: string;
  /** Parsed JSON body, or the parsed `payload_json` of a multipart body. */
  body: unknown;
  files: RecordedFile[];
  /** Whether the request carried `Authorization: Bot ...`. */
  authenticated: boolean;
  status: number;
  discordCode?: number;
  at: number;
}

export interface RecordedCallback {
  /** Callback type: 4, 5, 6, 7, 8, 9 (or whatever was sent). */
  type: number;
  data: any;
  files: RecordedFile[];
  /** Time the callback request arrived (fake clock, ms epoch). */
  at: number;
  /** at − interaction dispatch time. */
  latencyMs: number;
  /** HTTP status the fake answered (204/200 accepted, 404 10062 late, 400 40060 double ...). */
  status: number;
  accepted: boolean;
  discordCode?: number;
}

export interface RateLimitHit {
  method: string;
  path: string;
  route: string;
  bucket: string;
  scope: 'user' | 'global' | 'shared';
  retryAfterMs: number;
  at: number;
}

export interface OpenApiProblem {
  route: string;
  method: string;
  path: string;
  operationId: string | null;
  errors: { path: string; message: string; keyword: string; params: Record<string, unknown> }[];
  body: unknown;
  at: number;
}

export interface CommandPut {
  scope: 'global' | 'guild';
  guildId: string | null;
  body: unknown[];
  /** The commands returned (with generated ids). */
  response: RegisteredCommand[];
  at: number;
}

export interface RegisteredCommand {
  id: string;
  application_id: string;
  version: string;
  guild_id?: string;
  type: number;
  name: string;
  description: string;
  options?: unknown[];
  [key: string]: unknown;
}

export interface FailRule {
  method?: string;
  /** Tested against the path below /api/v10 (no query), e.g. /channels/123/messages. */
  pathPattern: RegExp;
  status: number;
  code: number;
  message: string;
  /** How many matching requests fail. Default 1. */
  times?: number;
  errors?: unknown;
  /** For status 429: seconds to put in Retry-After / retry_after. */
  retryAfterSec?: number;
}

export interface RateLimitRule {
  /** A templated route ('PATCH /channels/:id/messages/:id', method optional) or a RegExp on 'METHOD /path'. */
  routePattern: string | RegExp;
  limit: number;
  windowMs: number;
  /** Bucket hash reported in X-RateLimit-Bucket (routes with the same bucket share the budget). */
  bucket?: string;
  scope?: 'user' | 'shared';
}

export interface AttachmentInput {
  name: string;
  bytes: Buffer;
  /** Overrides sniffing (lets a test lie, e.g. a text file as image/png). */
  contentType?: string;
  width?: number;
  height?: number;
  description?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}
