// Interaction routes: the initial callback (3 s window, single acknowledgement, allowed types)
// and the interaction-token webhook routes (@original, follow-ups; 15 min token lifetime).
import { DiscordHttpError, Errors, fieldError } from './errors.js';
import type { FakeDiscord } from './fakeDiscord.js';
import { InteractionType, type FakeInteraction } from './interactions.js';
import { checkMessageParts, createMessageFromPayload, editMessageFromPayload, FLAG_EPHEMERAL, FLAG_LOADING } from './messages.js';
import type { RouteContext, RouteDef, RouteResult } from './rest.js';
import type { FakeMessage, RecordedCallback } from './types.js';

type Json = Record<string, any>;

const invalidType = () => Errors.invalidFormBody(fieldError(['type'], 'INTERACTION_RESPONSE_TYPE_INVALID', 'Invalid interaction response type'));

/** Callback types Discord accepts as the initial response for each interaction type. */
function allowedCallbackTypes(ix: FakeInteraction): number[] {
  switch (ix.type) {
    case InteractionType.ApplicationCommand:
      return [4, 5, 9, 12];
    case InteractionType.MessageComponent:
      return [4, 5, 6, 7, 9, 12];
    case InteractionType.Autocomplete:
      return [8];
    case InteractionType.ModalSubmit:
      return ix.sourceMessageId ? [4, 5, 6, 7] : [4, 5];
    default:
      return [1];
  }
}

function messageTypeFor(ix: FakeInteraction): number {
  if (ix.kind === 'slash') return 20;
  if (ix.kind === 'messageCommand' || ix.kind === 'userCommand') return 23;
  return 19;
}

export function interactionRoutes(fake: FakeDiscord): RouteDef[] {
  const world = fake.world;

  const callback = (ctx: RouteContext): RouteResult => {
    const [interactionId = '', token = ''] = ctx.params;
    const body = (ctx.body ?? {}) as Json;
    const ix = fake.interactionsById.get(interactionId);
    const record: RecordedCallback = {
      type: Number(body['type']),
      data: body['data'],
      files: ctx.files,
      at: ctx.at,
      latencyMs: ix ? ctx.at - ix.sentAt : 0,
      status: 0,
      accepted: false,
    };
    ix?.callbacks.push(record);
    try {
      const result = applyCallback(ix, token, body, ctx);
      record.status = result.status;
      record.accepted = true;
      return result;
    } catch (err) {
      if (err instanceof DiscordHttpError) {
        record.status = err.status;
        record.discordCode = err.code;
      }
      throw err;
    }
  };

  const applyCallback = (ix: FakeInteraction | undefined, token: string, body: Json, ctx: RouteContext): RouteResult => {
    if (!ix || ix.token !== token || ix.expired) throw Errors.unknownInteraction();
    if (ix.acknowledged) throw Errors.alreadyAcknowledged();
    if (ctx.at - ix.sentAt > fake.options.interactionWindowMs) throw Errors.unknownInteraction();
    const type = Number(body['type']);
    if (!allowedCallbackTypes(ix).includes(type)) throw invalidType();
    const data = (body['data'] ?? {}) as Json;
    let message: FakeMessage | undefined;
    switch (type) {
      case 4:
        message = createMessageFromPayload({
          world,
          channelId: ix.channelId,
          author: world.botUser,
          source: 'interaction',
          payload: data,
          files: ctx.files,
          limitBytes: ix.attachmentSizeLimit,
          type: messageTypeFor(ix),
          interactionId: ix.id,
          webhookId: world.applicationId,
          errorPrefix: ['data'],
        });
        ix.originalMessageId = message.id;
        break;
      case 5:
        message = createMessageFromPayload({
          world,
          channelId: ix.channelId,
          author: world.botUser,
          source: 'interaction',
          payload: { flags: Number(data['flags'] ?? 0) & FLAG_EPHEMERAL },
          files: [],
          limitBytes: ix.attachmentSizeLimit,
          type: messageTypeFor(ix),
          interactionId: ix.id,
          webhookId: world.applicationId,
          addFlags: FLAG_LOADING,
          allowEmpty: true,
        });
        ix.originalMessageId = message.id;
        break;
      case 6:
        ix.originalMessageId = ix.sourceMessageId;
        break;
      case 7: {
        const source = ix.sourceMessageId ? world.messages.get(ix.sourceMessageId) : undefined;
        if (!source || source.deleted) throw Errors.unknownMessage();
        checkMessageParts(data, ['data']);
        editMessageFromPayload(world, source, data, ctx.files, ix.attachmentSizeLimit, ctx.at);
        ix.originalMessageId = source.id;
        message = source;
        break;
      }
      case 8: {
        const choices = data['choices'];
        if (Array.isArray(choices) && choices.length > 25) {
          throw Errors.invalidFormBody(fieldError(['data', 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.'));
        }
        break;
      }
      case 9: {
        const title = data['title'];
        const comps = data['components'];
        if (typeof title !== 'string' || title.length < 1 || title.length > 45) {
          throw Errors.invalidFormBody(fieldError(['data', 'title'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 45 in length.'));
        }
        if (!Array.isArray(comps) || comps.length < 1 || comps.length > 5) {
          throw Errors.invalidFormBody(fieldError(['data', 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.'));
        }
        checkMessageParts({ components: comps, flags: 1 << 15 }, ['data']);
        break;
      }
      default:
        break;
    }
    ix.acknowledged = true;
    ix.responseType = type;
    if (message) fake.dispatchMessageEvent(type === 7 ? 'MESSAGE_UPDATE' : 'MESSAGE_CREATE', message);
    if (ctx.query.get('with_response') !== 'true') return { status: 204 };
    const interaction: Json = { id: ix.id, type: ix.type };
    if (message) {
      interaction['response_message_id'] = message.id;
      interaction['response_message_loading'] = (message.flags & FLAG_LOADING) !== 0;
      interaction['response_message_ephemeral'] = message.ephemeral;
    }
    const resource: Json = { type };
    if (message) resource['message'] = fake.messageJson(message);
    return { status: 200, body: { interaction, resource } };
  };

  /** Resolves the interaction behind a webhook route, enforcing app id and token lifetime. */
  const webhookInteraction = (ctx: RouteContext): FakeInteraction => {
    const [appId = '', token = ''] = ctx.params;
    if (appId !== world.applicationId) throw Errors.unknownWebhook();
    const ix = fake.interactionsByToken.get(token);
    if (!ix || ix.expired || ctx.at - ix.sentAt > fake.options.tokenLifetimeMs) throw Errors.invalidWebhookToken();
    return ix;
  };

  const ownMessage = (ix: FakeInteraction, which: string): FakeMessage => {
    const id = which === '@original' ? ix.originalMessageId : which;
    const isOwn = id !== null && (id === ix.originalMessageId || ix.followupIds.includes(id));
    const msg = isOwn && id ? world.messages.get(id) : undefined;
    if (!msg || msg.deleted) throw Errors.unknownMessage();
    return msg;
  };

  const getMessage = (ctx: RouteContext, which: string): RouteResult => {
    const ix = webhookInteraction(ctx);
    return { status: 200, body: fake.messageJson(ownMessage(ix, which)) };
  };

  const editMessage = (ctx: RouteContext, which: string): RouteResult => {
    const ix = webhookInteraction(ctx);
    const msg = ownMessage(ix, which);
    editMessageFromPayload(world, msg, ctx.body, ctx.files, ix.attachmentSizeLimit, ctx.at);
    fake.dispatchMessageEvent('MESSAGE_UPDATE', msg);
    return { status: 200, body: fake.messageJson(msg) };
  };

  const deleteMessage = (ctx: RouteContext, which: string): RouteResult => {
    const ix = webhookInteraction(ctx);
    const msg = ownMessage(ix, which);
    msg.deleted = true;
    msg.deletedBy = 'bot';
    fake.dispatchMessageEvent('MESSAGE_DELETE', msg);
    return { status: 204 };
  };

  const followUp = (ctx: RouteContext): RouteResult => {
    const ix = webhookInteraction(ctx);
    if (!ix.acknowledged) throw Errors.unknownWebhook();
    const original = ix.originalMessageId ? world.messages.get(ix.originalMessageId) : undefined;
    let msg: FakeMessage;
    if (ix.responseType === 5 && original && !original.deleted && (original.flags & FLAG_LOADING) !== 0) {
      // Documented Discord quirk: the first follow-up after a deferred reply edits the
      // loading message instead of creating a new one (its ephemeral flag is ignored).
      const body = { ...((ctx.body ?? {}) as Json) };
      delete body['flags'];
      msg = editMessageFromPayload(world, original, body, ctx.files, ix.attachmentSizeLimit, ctx.at);
      fake.dispatchMessageEvent('MESSAGE_UPDATE', msg);
    } else {
      msg = createMessageFromPayload({
        world,
        channelId: ix.channelId,
        author: world.botUser,
        source: 'followup',
        payload: ctx.body,
        files: ctx.files,
        limitBytes: ix.attachmentSizeLimit,
        type: messageTypeFor(ix),
        interactionId: ix.id,
        webhookId: world.applicationId,
      });
      ix.followupIds.push(msg.id);
      fake.dispatchMessageEvent('MESSAGE_CREATE', msg);
    }
    if (ctx.query.get('wait') !== 'true') return { status: 204 };
    return { status: 200, body: fake.messageJson(msg) };
  };

  const original = '/webhooks/:id/:token/messages/@original';
  const byId = '/webhooks/:id/:token/messages/:id';
  return [
    {
      method: 'POST',
      template: '/interactions/:id/:token/callback',
      openApi: '/interactions/{interaction_id}/{interaction_token}/callback',
      auth: false,
      exemptFromRateLimits: true,
      handler: callback,
    },
    { method: 'GET', template: original, auth: false, handler: (ctx) => getMessage(ctx, '@original') },
    {
      method: 'PATCH',
      template: original,
      openApi: '/webhooks/{webhook_id}/{webhook_token}/messages/@original',
      auth: false,
      handler: (ctx) => editMessage(ctx, '@original'),
    },
    { method: 'DELETE', template: original, auth: false, handler: (ctx) => deleteMessage(ctx, '@original') },
    { method: 'GET', template: byId, auth: false, handler: (ctx) => getMessage(ctx, ctx.params[2] ?? '') },
    {
      method: 'PATCH',
      template: byId,
      openApi: '/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}',
      auth: false,
      handler: (ctx) => editMessage(ctx, ctx.params[2] ?? ''),
    },
    { method: 'DELETE', template: byId, auth: false, handler: (ctx) => deleteMessage(ctx, ctx.params[2] ?? '') },
    {
      method: 'POST',
      template: '/webhooks/:id/:token',
      openApi: '/webhooks/{webhook_id}/{webhook_token}',
      auth: false,
      handler: followUp,
    },
  ];
}
