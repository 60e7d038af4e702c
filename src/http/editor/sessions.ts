import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Keyv } from 'keyv';
import type { KvStore } from '../../store/keyvStore.js';

/**
 * Mask editor sessions: one per "Open editor" link. The token in the link is unguessable (256 random bits), bound
 * to the member, the job (or the member's image) and the flow it continues, valid 15 minutes (the life of the
 * interaction token it will edit the member's reply with) and usable once. Sessions live in the store, so the
 * page may be opened and submitted on any process that shares it; the store only ever sees the token's hash.
 * What a session carries is plain data: the Discord side (src/discord/flows/maskEditor.ts) decides what it means.
 */

/** How long a link works: the interaction token of the press that made it dies then too. */
export const EDITOR_TTL_MS = 15 * 60_000;
/** How long a used or expired session is still remembered, to say so instead of "unknown link". */
const REMEMBER_MS = 24 * 3600_000;
/** A submit holds the session this long at most while it is checked and sent (a second submit meanwhile is refused). */
const SUBMIT_HOLD_MS = 60_000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** What a session continues: Vary (Region) on a Midjourney result, "Inpaint again" on a result, or /inpaint. */
export type EditorFlow = 'vary-region' | 'inpaint-again' | 'inpaint';

/** The press (or command) the link was made for, as the flows need it to continue in the member's name. */
export interface PressFacts {
  interactionId: string;
  applicationId: string;
  /** the interaction token (valid 15 minutes from issuedAt): the member's ephemeral reply is edited through it */
  token: string;
  issuedAt: number;
  userId: string;
  guildId: string | undefined;
  /** the server whose rules apply (Ctx.guildId: the interaction's, or a DM button's job's server) */
  rulingGuildId: string | undefined;
  channelId: string;
  channelParentId: string | undefined;
  channelNsfw: boolean;
  roleIds: string[];
  isManager: boolean;
  locale: string;
  guildLocale: string | undefined;
  attachmentSizeLimit: number;
  /** the slash command's name (/inpaint), for rules that name commands; undefined for a button */
  command?: string | undefined;
}

export interface EditorSession {
  flow: EditorFlow;
  /** the pressed result button (vary-region, inpaint-again) */
  buttonKey?: string | undefined;
  /** /inpaint: the member's image (a Discord attachment URL, downloaded again through the guarded downloader) */
  image?: { url: string; name: string } | undefined;
  /** /inpaint: where the result goes */
  delivery?: 'channel' | 'dm' | 'both' | undefined;
  /** the mask's exact pixel size */
  width: number;
  height: number;
  /** the prompt box's first text (Vary (Region)); absent: the page has no prompt box */
  prompt?: string | undefined;
  press: PressFacts;
  createdAt: number;
  expiresAt: number;
  /** hash of the cookie of the browser that opened the link first; only that browser may use it */
  browser?: string | undefined;
  usedAt?: number | undefined;
}

export type SessionLookup = { ok: true; session: EditorSession } | { ok: false; why: 'unknown' | 'expired' | 'used' };

export class EditorSessions {
  private readonly kv: Keyv;

  constructor(
    private readonly store: KvStore,
    private readonly now: () => number = Date.now,
  ) {
    this.kv = store.namespace('meta');
  }

  /** Keep a session and return the token for its link. */
  async create(s: Omit<EditorSession, 'createdAt' | 'expiresAt'>, expiresAt?: number): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const session: EditorSession = { ...s, createdAt, expiresAt: expiresAt ?? createdAt + EDITOR_TTL_MS };
    await this.kv.set(keyOf(token), session, Math.max(0, session.expiresAt - createdAt) + REMEMBER_MS);
    return token;
  }

  /** The session behind a token, or why there is none usable. */
  async open(token: string): Promise<SessionLookup> {
    if (!TOKEN.test(token)) return { ok: false, why: 'unknown' };
    const session = (await this.kv.get(keyOf(token))) as EditorSession | undefined;
    if (!session) return { ok: false, why: 'unknown' };
    if (session.usedAt) return { ok: false, why: 'used' };
    if (this.now() >= session.expiresAt) return { ok: false, why: 'expired' };
    return { ok: true, session };
  }

  /**
   * Bind the session to the browser presenting `cookie`: the first browser to open the link gets it; any other
   * browser is a stranger to it. Returns whether this browser may use the session.
   */
  browserOf(session: EditorSession, cookie: string | undefined): 'owner' | 'first' | 'stranger' {
    if (session.browser) return cookie && sameHash(hashOf(cookie), session.browser) ? 'owner' : 'stranger';
    return 'first';
  }

  /** Remember the browser that opened the link first (its cookie's hash). */
  async bindBrowser(token: string, session: EditorSession, cookie: string): Promise<void> {
    session.browser = hashOf(cookie);
    await this.save(token, session);
  }

  /** Hold the session for one submit: a hold token, or undefined while another submit of it is under way. */
  async hold(token: string): Promise<string | undefined> {
    return this.store.tryLock(`editor:${hashOf(token)}`, SUBMIT_HOLD_MS);
  }

  async unhold(token: string, hold: string): Promise<void> {
    await this.store.unlock(`editor:${hashOf(token)}`, hold);
  }

  /** The link has done its work: any later use is told so. */
  async markUsed(token: string, session: EditorSession): Promise<void> {
    session.usedAt = this.now();
    await this.save(token, session);
  }

  private async save(token: string, session: EditorSession): Promise<void> {
    await this.kv.set(keyOf(token), session, Math.max(0, session.expiresAt - this.now()) + REMEMBER_MS);
  }
}

export function isEditorToken(token: string): boolean {
  return TOKEN.test(token);
}

function hashOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

function keyOf(token: string): string {
  return `editor:${hashOf(token)}`;
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
