/**
 * Fake Discord for end-to-end tests: one loopback server (REST under /api/v10, attachment bytes,
 * gateway WebSocket) that an unmodified discord.js Client logs into.
 *
 *   const fake = await startFakeDiscord({ rateLimits: true });
 *   const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl }, waitGuildTimeout: 500 });
 *   await client.login('any-token');
 *   const ix = fake.slash({ name: 'imagine', options: { prompt: 'a cat', image: { attachment: { name: 'a.png', bytes } } } });
 *   const cb = await ix.firstCallback();          // {type: 5, latencyMs, ...}
 *   await fake.waitFor(() => ix.original()?.attachments.length);
 *   expect(fake.openApiProblems).toEqual([]);
 *   await client.destroy(); await fake.close();
 *
 * Modules: server (http + ws upgrade), gateway, rest (pipeline), routes (bot routes), webhooks
 * (interaction callback + token webhooks), interactions (payload builders, FakeInteraction),
 * messages (payload → message rules), state (world + serializers), rateLimits, openapi,
 * commands (registration rules), media (type/size sniffing), permissions.
 */
export { FakeDiscord, startFakeDiscord, Intents } from './fakeDiscord.js';
export type {
  AttachmentDownload,
  AutocompleteInput,
  ClickButtonInput,
  MessageCommandInput,
  MessagesInOptions,
  SelectInput,
  SlashInput,
  SubmitModalInput,
  UserCommandInput,
} from './fakeDiscord.js';
export { FakeInteraction } from './interactions.js';
export type { ContextInput, InteractionKind, OptionInput, OptionsInput, RawOption } from './interactions.js';
export { DEFAULT_RULES as DEFAULT_RATE_LIMIT_RULES, GLOBAL_LIMIT_PER_SECOND } from './rateLimits.js';
export { P as Permissions, ALL_PERMISSIONS } from './permissions.js';
export type * from './types.js';
