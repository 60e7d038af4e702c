import {
  ButtonStyle,
  ComponentType,
  Routes,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
  type REST,
} from 'discord.js';
import { PermissionFlagsBits } from 'discord.js';
import type { Requester } from '../../community/requester.js';
import type { EditorBackend } from '../../http/editor/routes.js';
import { EDITOR_TTL_MS, EditorSessions, type EditorFlow, type EditorSession, type PressFacts } from '../../http/editor/sessions.js';
import { resolveLocale } from '../../i18n/index.js';
import { IMAGE_BUDGETS } from '../../images/budgets.js';
import { checkImage } from '../../images/sniff.js';
import type { Msg } from '../../jobs/model.js';
import type { Services } from '../../services.js';
import { toApiBody } from '../messages/messenger.js';
import { admitBeforeDownload } from '../interactions/admission.js';
import { memberRoleIds, UserError, type Ctx } from '../interactions/interactionKit.js';
import { MODAL_TEXT_MAX } from '../interactions/modals.js';
import { afterPress, pressedButton } from '../interactions/pressedButton.js';
import { acceptedReply } from './jobOptions.js';
import { readMjButton, regionImageSize, startActionWithInput, type MjPressed } from './mjAction.js';
import { readToolAction, toolOrigin, type ToolPressed } from './toolButtons.js';
import { limitsFor, PICWISH_LIMITS, resultImage, toolMask, varyRegionMask } from './toolInputs.js';
import { startInpaint } from './toolJobs.js';
import type { CheckedImage } from './attachments.js';

/**
 * The browser mask editor, Discord's side: a press of Vary (Region) or "Inpaint again", or /inpaint without a mask,
 * answers with an "Open editor" link (PUBLIC_URL/editor/<token>) instead of asking for a file or coordinates; the
 * mask drawn there comes back through the bot's HTTP server (src/http/editor/) and continues exactly where the
 * modal's would: the same checks, the same job start, in the member's name, and the member's reply is edited.
 */

/** The mask a page sent, and the prompt box's text (Vary (Region) only). */
export interface EditedMask {
  png: Buffer;
  prompt?: string | undefined;
}

/** What the page tells the member after a submit. */
export type EditorOutcome = { ok: true; message: string } | { ok: false; message: string };

/** Whether this deployment offers the editor: its page must be reachable at PUBLIC_URL (and MASK_EDITOR not off). */
export function editorAvailable(services: Pick<Services, 'config'>): boolean {
  return services.config.http.maskEditor;
}

/** Where a session's page is. */
export function editorUrl(services: Pick<Services, 'config'>, token: string): string {
  return `${(services.config.http.publicUrl ?? '').replace(/\/+$/, '')}/editor/${token}`;
}

/**
 * Without PUBLIC_URL the mask modal stays (upload or rectangles) and says, in a line of text under its fields, that
 * the drawing editor needs PUBLIC_URL.
 */
export function withEditorNote<M extends { components: unknown[] }>(ctx: Ctx, modal: M): M {
  if (editorAvailable(ctx.services)) return modal;
  return { ...modal, components: [...modal.components, { type: ComponentType.TextDisplay, content: ctx.t('editor.modalNote') }] };
}

/** What an offer is for: the flow it continues and what the page needs to show. */
export interface EditorOffer {
  flow: EditorFlow;
  buttonKey?: string | undefined;
  image?: { url: string; name: string } | undefined;
  delivery?: EditorSession['delivery'];
  width: number;
  height: number;
  prompt?: string | undefined;
  /** the command's name (/inpaint), for rules that name commands */
  command?: string | undefined;
}

/**
 * Answer a deferred-ephemeral press or command with the "Open editor" link, valid as long as the interaction token
 * the mask's submit will edit this reply with.
 */
export async function offerEditor(i: ButtonInteraction | ChatInputCommandInteraction, ctx: Ctx, offer: EditorOffer): Promise<void> {
  const { command, ...rest } = offer;
  const press = { ...pressFactsOf(i, ctx), command };
  const expiresAt = i.createdTimestamp + EDITOR_TTL_MS;
  const token = await new EditorSessions(ctx.services.store, ctx.services.now).create({ ...rest, press }, expiresAt);
  await i.editReply({
    content: ctx.t(`editor.offer.${offer.flow}`, { width: offer.width, height: offer.height, expires: `<t:${Math.floor(expiresAt / 1000)}:R>` }),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.Button,
            style: ButtonStyle.Link,
            label: ctx.t('editor.offer.button'),
            emoji: { name: '🖌️' },
            url: editorUrl(ctx.services, token),
          },
        ],
      },
    ],
    allowedMentions: { parse: [] },
  });
}

/** Whether a pressed button's mask is drawn in the editor (Vary (Region), Inpaint again) instead of asked for in a modal. */
export function drawsInEditor(kind: string, services: Pick<Services, 'config'>): boolean {
  return (kind === 'vary-region' || kind === 'inpaint') && editorAvailable(services);
}

/** Vary (Region) pressed: the editor on the result, at the size the upstream reported, the prompt box as the modal fills it. */
export async function offerRegionEditor(i: ButtonInteraction, p: MjPressed, ctx: Ctx): Promise<void> {
  const size = await regionImageSize(p.parent, ctx);
  const prompt = (p.parent.result?.finalPrompt ?? p.parent.prompt).slice(0, MODAL_TEXT_MAX);
  await offerEditor(i, ctx, { flow: 'vary-region', buttonKey: p.key, ...size, prompt });
}

/** "Inpaint again" pressed: the editor on the result image (re-downloaded as the modal's submit would, for its size). */
export async function offerInpaintEditor(i: ButtonInteraction, p: ToolPressed, ctx: Ctx): Promise<void> {
  const image = await resultImage(p.parent, ctx, limitsFor(PICWISH_LIMITS, i.attachmentSizeLimit));
  await offerEditor(i, ctx, { flow: 'inpaint-again', buttonKey: p.key, width: image.width, height: image.height });
}

/** The facts of an interaction the flows read, kept in the session (plain data, no discord.js object). */
function pressFactsOf(i: ButtonInteraction | ChatInputCommandInteraction, ctx: Ctx): PressFacts {
  const ch = i.channel as { parentId?: string | null; nsfw?: boolean } | null;
  return {
    interactionId: i.id,
    applicationId: i.applicationId,
    token: i.token,
    issuedAt: i.createdTimestamp,
    userId: i.user.id,
    guildId: i.guildId ?? undefined,
    rulingGuildId: ctx.guildId,
    channelId: i.channelId ?? i.user.id,
    channelParentId: ch?.parentId ?? undefined,
    channelNsfw: ch?.nsfw === true,
    roleIds: memberRoleIds(i),
    isManager: i.inGuild() && i.memberPermissions?.has(PermissionFlagsBits.ManageGuild) === true,
    locale: i.locale,
    guildLocale: i.guildLocale ?? undefined,
    attachmentSizeLimit: i.attachmentSizeLimit,
  };
}

/**
 * The press read back as the flows read an interaction: who, where, with which roles, and the interaction's
 * application id, token and attachment limit. The flows only read these fields (jobOwner, mayPress, the job's
 * interaction record); nothing here can answer Discord, so the reply is edited through the token instead.
 */
function replayedPress(p: PressFacts): ModalSubmitInteraction {
  const replayed = {
    id: p.interactionId,
    applicationId: p.applicationId,
    token: p.token,
    createdTimestamp: p.issuedAt,
    attachmentSizeLimit: p.attachmentSizeLimit,
    user: { id: p.userId },
    guildId: p.guildId ?? null,
    channelId: p.channelId,
    locale: p.locale,
    guildLocale: p.guildLocale ?? null,
    member: p.guildId ? { roles: p.roleIds } : null,
    channel: null,
    memberPermissions: null,
    inGuild: () => p.guildId !== undefined,
    isRepliable: () => false,
    isButton: () => false,
    isModalSubmit: () => false,
  };
  return replayed as unknown as ModalSubmitInteraction;
}

function requesterOf(p: PressFacts): Requester {
  return {
    userId: p.userId,
    guildId: p.guildId,
    inGuild: p.guildId !== undefined,
    channel: { id: p.channelId, parentId: p.channelParentId, nsfw: p.channelNsfw },
    roleIds: p.roleIds,
    isManager: p.isManager,
    locale: p.locale,
  };
}

/** The member's context as the dispatcher would build it now: the server's current rules and language. */
export async function ctxOfSession(s: EditorSession, services: Services): Promise<Ctx> {
  const p = s.press;
  const rules = p.rulingGuildId ? await services.community.rules(p.rulingGuildId).catch(() => undefined) : undefined;
  const locale = resolveLocale(rules?.locale, p.locale, p.guildLocale);
  return { services, locale, rules, guildId: p.rulingGuildId, t: (key, params) => services.i18n.t(locale, key, params) };
}

/**
 * The editor's server side (mounted by src/http/editor/routes.ts): the image a session shows, and a submitted mask
 * continued through the same steps as the modal's. `rest` edits the member's ephemeral reply.
 */
export class MaskEditorFlows implements EditorBackend {
  constructor(
    private readonly services: Services,
    private readonly rest: REST,
  ) {}

  /** The member's language for the session's pages (the server's override, else the member's client). */
  async locale(s: EditorSession): Promise<string> {
    return (await ctxOfSession(s, this.services)).locale;
  }

  /** The picture the member draws on: the parent's result (as "Inpaint again" re-downloads it) or the /inpaint upload. */
  async image(s: EditorSession): Promise<{ bytes: Buffer; mime: string }> {
    const ctx = await ctxOfSession(s, this.services);
    const img = await this.sourceImage(s, ctx, s.press.attachmentSizeLimit);
    return { bytes: img.bytes, mime: img.mime };
  }

  /** Continue the session's flow with the drawn mask; the page's message (in the member's language) either way. */
  async submit(s: EditorSession, mask: EditedMask): Promise<EditorOutcome> {
    const ctx = await ctxOfSession(s, this.services);
    try {
      const line = await this.continueFlow(s, ctx, mask);
      await this.editReply(s, line).catch((err: unknown) => this.services.logger.debug({ err }, 'could not edit the reply of an editor press'));
      return { ok: true, message: ctx.t('editor.page.sent') };
    } catch (thrown) {
      const userMessage = (thrown as { userMessage?: Msg } | null)?.userMessage;
      const err = !(thrown instanceof UserError) && userMessage ? UserError.from(userMessage) : thrown; // refused by a limit or by the upstream
      if (err instanceof UserError) return { ok: false, message: ctx.t(err.key, err.params) };
      this.services.logger.error({ err, flow: s.flow }, 'mask editor submit failed');
      return { ok: false, message: ctx.t('errors.internal') };
    }
  }

  private async continueFlow(s: EditorSession, ctx: Ctx, mask: EditedMask): Promise<string> {
    const i = replayedPress(s.press);
    // the server's rules as a press meets them in the dispatcher (bans, channels, roles), as they are now
    const refusal = this.services.community.entryRefusal(requesterOf(s.press), ctx.rules, s.press.command);
    if (refusal) throw UserError.from(refusal);
    switch (s.flow) {
      case 'vary-region': {
        const p = await pressedButton(i, s.buttonKey ?? '', ctx, readMjButton);
        if (p.spec.kind !== 'vary-region') throw new UserError('errors.buttonExpired');
        await admitBeforeDownload(i, ctx);
        const size = await regionImageSize(p.parent, ctx);
        const maskBase64 = await varyRegionMask(mask.png, 'mask.png', size, ctx);
        return startActionWithInput(i, ctx, p, { maskBase64, prompt: mask.prompt?.trim() || undefined });
      }
      case 'inpaint-again': {
        const p = await pressedButton(i, s.buttonKey ?? '', ctx, readToolAction);
        if (p.spec !== 'inpaint') throw new UserError('errors.buttonExpired');
        await admitBeforeDownload(i, ctx);
        const image = await this.sourceImage(s, ctx, i.attachmentSizeLimit);
        const region = await toolMask(image, mask.png, 'mask.png', ctx, limitsFor(PICWISH_LIMITS, i.attachmentSizeLimit));
        const job = await afterPress(i, p, ctx, { claim: false }, async () => startInpaint(await toolOrigin(i, p, ctx), { image, ...region }));
        return acceptedReply(job, ctx);
      }
      case 'inpaint': {
        await admitBeforeDownload(i, ctx);
        const image = await this.sourceImage(s, ctx, i.attachmentSizeLimit);
        const region = await toolMask(image, mask.png, 'mask.png', ctx, limitsFor(PICWISH_LIMITS, i.attachmentSizeLimit));
        const job = await startInpaint({ interaction: i, ctx, delivery: s.delivery ?? 'channel' }, { image, ...region });
        return acceptedReply(job, ctx);
      }
    }
  }

  /** The session's picture, checked as its flow checks it (the result message's attachment, or the member's upload). */
  private async sourceImage(s: EditorSession, ctx: Ctx, attachmentLimit: number): Promise<CheckedImage> {
    // Vary (Region) only shows the picture (the mask's size is the upstream's); the inpaint flows send it to PicWish
    const limits = s.flow === 'vary-region' ? IMAGE_BUDGETS.result : limitsFor(PICWISH_LIMITS, attachmentLimit);
    if (s.image) {
      const { url, name } = s.image;
      const bytes = await this.services.download(url, limits.maxBytes).catch(() => {
        throw new UserError('errors.attachmentDownload', { name });
      });
      const checked = checkImage(bytes, limits);
      if (!checked.ok) throw new UserError(checked.key, { name, ...(checked.params ?? {}) });
      return { name, bytes, mime: checked.info.mime, width: checked.info.width, height: checked.info.height, dataUrl: '', url };
    }
    const parent = await this.parentOf(s, ctx);
    return resultImage(parent, ctx, limits);
  }

  private async parentOf(s: EditorSession, ctx: Ctx) {
    const record = s.buttonKey ? await ctx.services.repos.buttons.get(s.buttonKey) : undefined;
    const parent = record ? await ctx.services.jobs.get(record.jobId) : undefined;
    if (!parent) throw new UserError('errors.buttonExpired');
    return parent;
  }

  /** The member's ephemeral reply (the press's) now says what happened, and the link is gone. */
  private async editReply(s: EditorSession, content: string): Promise<void> {
    const { body } = toApiBody({ content, components: [] });
    await this.rest.patch(Routes.webhookMessage(s.press.applicationId, s.press.token), { body, auth: false });
  }
}
