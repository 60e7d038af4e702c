// Tests of the fake Discord itself, driven by a real, unmodified discord.js Client.
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  ChatInputCommandInteraction,
  Client,
  DiscordAPIError,
  Events,
  FileUploadBuilder,
  GatewayIntentBits,
  LabelBuilder,
  MessageFlags,
  ModalBuilder,
  REST,
  Routes,
  TextInputBuilder,
  TextInputStyle,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type Interaction,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
  type RateLimitData,
  type StringSelectMenuInteraction,
  type TextChannel,
  type UserContextMenuCommandInteraction,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord } from './discord/index.js';

// ---- helpers --------------------------------------------------------------------------------

/** A small PNG header (signature + IHDR) followed by filler: enough for sniffing type and size. */
function png(width: number, height: number, filler = 'pixels'): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'ascii');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr[16] = 8;
  ihdr[17] = 6;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, Buffer.from(filler)]);
}

async function login(fake: FakeDiscord): Promise<Client> {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl }, waitGuildTimeout: 500 });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login('fake-bot-token');
  await ready;
  return client;
}

/** Resolves with the next interaction discord.js emits (listener attached before injecting). */
function nextInteraction<T extends Interaction>(client: Client, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(Events.InteractionCreate, on);
      reject(new Error('no interactionCreate within timeout'));
    }, timeoutMs);
    const on = (i: Interaction) => {
      clearTimeout(timer);
      client.off(Events.InteractionCreate, on);
      resolve(i as T);
    };
    client.on(Events.InteractionCreate, on);
  });
}

async function apiError(p: Promise<unknown>): Promise<DiscordAPIError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DiscordAPIError) return err;
    throw err;
  }
  throw new Error('expected a DiscordAPIError');
}

// ---- shared fake + client ------------------------------------------------------------------------

describe('fake discord with a real discord.js client', () => {
  let fake: FakeDiscord;
  let client: Client;

  beforeAll(async () => {
    fake = await startFakeDiscord();
    client = await login(fake);
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
    expect(fake.internalErrors).toEqual([]);
  });

  it('logs in: READY + GUILD_CREATE populate the caches, commands are bulk-registered with ids', async () => {
    expect(client.user?.id).toBe(fake.botUser.id);
    expect(client.application?.id).toBe(fake.applicationId);
    const guild = client.guilds.cache.get(fake.guild.id);
    expect(guild?.name).toBe(fake.guild.name);
    expect(guild?.available).toBe(true);
    expect(guild?.members.me?.id).toBe(fake.botUser.id);
    expect(guild?.roles.everyone.id).toBe(fake.guild.id);
    const channel = client.channels.cache.get(fake.channel.id);
    expect(channel?.isTextBased()).toBe(true);
    expect(client.channels.cache.has(fake.channel2.id)).toBe(true);
    expect(fake.identifies).toBe(1);
    expect(fake.gatewayConnected).toBe(true);

    const commands = await client.application!.commands.set([
      { name: 'imagine', description: 'Generate an image', options: [{ type: 3, name: 'prompt', description: 'Prompt', required: true }] },
      { name: 'describe', description: 'Describe an image', options: [{ type: 11, name: 'image', description: 'Image', required: true }] },
    ]);
    expect(commands.size).toBe(2);
    const imagine = commands.find((c) => c.name === 'imagine');
    expect(imagine?.id).toMatch(/^\d{17,19}$/);
    expect(imagine?.options[0]?.name).toBe('prompt');

    await client.application!.commands.set([{ name: 'admin', description: 'Admin tools' }], fake.guild.id);
    const puts = fake.commandPuts();
    expect(puts.map((p) => p.scope)).toEqual(['global', 'guild']);
    expect(puts[0]?.body).toHaveLength(2);
    expect(puts[1]?.guildId).toBe(fake.guild.id);
    expect(fake.registeredCommands().map((c) => c.name)).toEqual(['imagine', 'describe']);
    expect(fake.registeredCommands(fake.guild.id)[0]?.id).toMatch(/^\d{17,19}$/);
    // A second PUT keeps the ids of unchanged names, like Discord.
    const again = await client.application!.commands.set([{ name: 'imagine', description: 'Generate', options: [] }]);
    expect(again.first()?.id).toBe(imagine?.id);
    expect(fake.callsTo('PUT /applications/:id/commands')).toHaveLength(2);
    // Discord's own registration rules (not in the OpenAPI schema): lowercase names without spaces.
    const bad = await apiError(client.application!.commands.set([{ name: 'Bad Name', description: 'x' }]));
    expect(bad.code).toBe(50035);
    expect(fake.registeredCommands()).toHaveLength(1);
    expect(fake.openApiProblems).toEqual([]);
  });

  it('slash command: options and attachments resolve; deferReply + editReply with a file and a button row', async () => {
    const image = png(64, 48);
    const got = nextInteraction<ChatInputCommandInteraction>(client);
    const ix = fake.slash({
      name: 'imagine',
      options: { prompt: 'a lighthouse at dusk', chaos: 20, weird: 0.5, tile: true, ref: { attachment: { name: 'ref image.png', bytes: image } } },
      locale: 'zh-CN',
    });
    const interaction = await got;
    expect(interaction).toBeInstanceOf(ChatInputCommandInteraction);
    await interaction.deferReply();

    expect(interaction.commandName).toBe('imagine');
    expect(interaction.locale).toBe('zh-CN');
    expect(interaction.guildLocale).toBe('en-US');
    expect(interaction.inCachedGuild()).toBe(true);
    expect(interaction.channel?.id).toBe(fake.channel.id);
    expect(interaction.user.id).toBe(fake.alice.id);
    expect(interaction.attachmentSizeLimit).toBe(10_485_760);
    expect(interaction.options.getString('prompt')).toBe('a lighthouse at dusk');
    expect(interaction.options.getInteger('chaos')).toBe(20);
    expect(interaction.options.getNumber('weird')).toBe(0.5);
    expect(interaction.options.getBoolean('tile')).toBe(true);
    const ref = interaction.options.getAttachment('ref', true);
    expect(ref.name).toBe('ref_image.png');
    expect(ref.contentType).toBe('image/png');
    expect([ref.width, ref.height]).toEqual([64, 48]);
    expect(ref.size).toBe(image.length);
    expect(ref.url).toMatch(/\/attachments\/\d+\/\d+\/ref_image\.png\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]+&$/);
    const downloaded = Buffer.from(await (await fetch(ref.url)).arrayBuffer());
    expect(downloaded.equals(image)).toBe(true);
    expect((await fetch(ref.url.replace(/hm=[0-9a-f]+/, 'hm=00'))).status).toBe(404);

    const result = png(128, 128, 'result');
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('mj:U1').setLabel('U1').setStyle(ButtonStyle.Secondary),
      new ButtonBuilder().setCustomId('mj:V1').setLabel('V1').setStyle(ButtonStyle.Secondary),
    );
    const edited = await interaction.editReply({
      content: 'done',
      files: [new AttachmentBuilder(result, { name: 'grid.png' })],
      components: [row],
    });
    expect(edited.attachments.first()?.name).toBe('grid.png');

    const cb = await ix.firstCallback();
    expect(cb.type).toBe(5);
    expect(cb.accepted).toBe(true);
    expect(cb.latencyMs).toBeGreaterThanOrEqual(0);
    expect(cb.latencyMs).toBeLessThan(3000);
    const original = ix.original();
    expect(original?.content).toBe('done');
    expect(original?.source).toBe('interaction');
    expect(original?.flags).toBe(0); // loading flag cleared by the edit
    expect(original?.attachments[0]?.bytes.equals(result)).toBe(true);
    expect([original?.attachments[0]?.width, original?.attachments[0]?.height]).toEqual([128, 128]);
    expect(JSON.stringify(original?.components)).toContain('mj:V1');
    expect(original?.edits).toHaveLength(1);
    const served = Buffer.from(await (await fetch(original!.attachments[0]!.url)).arrayBuffer());
    expect(served.equals(result)).toBe(true);
    expect(fake.messagesIn(fake.channel).map((m) => m.id)).toContain(original?.id);
    expect(fake.callsTo('PATCH /webhooks/:id/:token/messages/@original')[0]?.files[0]?.name).toBe('grid.png');
    expect(fake.openApiProblems).toEqual([]);
  });

  it('DM slash command and message context menu; ephemeral replies are kept out of messagesIn', async () => {
    const got = nextInteraction<ChatInputCommandInteraction>(client);
    const ix = fake.slash({
      name: 'imagine',
      options: [
        { name: 'prompt', type: 3, value: 'in a DM' },
        { name: 'image', type: 11, value: 'dm.png' },
      ],
      attachments: [{ name: 'dm.png', bytes: Buffer.from('not really a png'), contentType: 'image/png' }],
      guildId: null,
      user: fake.bob,
    });
    const dm = await got;
    const lying = dm.options.getAttachment('image', true);
    expect([lying.contentType, lying.width, lying.height]).toEqual(['image/png', null, null]);
    expect(dm.inGuild()).toBe(false);
    expect(dm.member).toBeNull();
    expect(dm.user.id).toBe(fake.bob.id);
    expect(dm.context).toBe(1);
    await dm.reply({ content: 'only you', flags: MessageFlags.Ephemeral });
    const original = ix.original();
    expect(original?.ephemeral).toBe(true);
    expect(original?.channel_id).toBe(fake.dmChannelOf(fake.bob.id).id);
    expect(fake.messagesIn(fake.dmChannelOf(fake.bob.id))).toHaveLength(0);
    expect(fake.messagesIn(fake.dmChannelOf(fake.bob.id), { includeEphemeral: true })).toHaveLength(1);

    const target = fake.userSendsMessage({ content: 'describe me', attachments: [{ name: 'x.png', bytes: png(2, 2) }] });
    const gotCtx = nextInteraction<MessageContextMenuCommandInteraction>(client);
    const ctxIx = fake.messageCommand({ name: 'Describe', targetMessageId: target.id });
    const ctx = await gotCtx;
    expect(ctx.isMessageContextMenuCommand()).toBe(true);
    expect(ctx.targetMessage.content).toBe('describe me');
    expect(ctx.targetMessage.attachments.first()?.width).toBe(2);
    const resp = await ctx.reply({ content: 'ok', withResponse: true });
    expect(resp.resource?.message?.content).toBe('ok');
    expect((await ctxIx.firstCallback()).type).toBe(4);
    expect(ctxIx.original()?.type).toBe(23);
  });

  it('follow-ups, withResponse, fetchReply and attachment-keeping edits behave like Discord', async () => {
    const got = nextInteraction<ChatInputCommandInteraction>(client);
    const ix = fake.slash({ name: 'imagine', options: { prompt: 'follow-ups' } });
    const interaction = await got;
    const response = await interaction.deferReply({ withResponse: true });
    expect(response.resource?.message?.id).toBe(ix.originalMessageId);
    expect(response.interaction.responseMessageLoading).toBe(true);
    // Discord quirk: the first follow-up after a defer edits the loading message.
    const first = await interaction.followUp('first');
    expect(first.id).toBe(ix.originalMessageId);
    const second = await interaction.followUp({ content: 'second', flags: MessageFlags.Ephemeral });
    expect(ix.followups().map((m) => [m.id, m.content, m.ephemeral])).toEqual([[second.id, 'second', true]]);
    await interaction.editReply({ content: 'second (edited)', message: second.id });
    expect(fake.message(second.id)?.content).toBe('second (edited)');
    expect((await interaction.fetchReply()).content).toBe('first');
    await interaction.deleteReply();
    expect(ix.original()?.deleted).toBe(true);
    expect((await apiError(interaction.fetchReply())).code).toBe(10008);

    // Edits keep exactly the listed attachments plus new uploads.
    const channel = client.channels.cache.get(fake.channel2.id) as TextChannel;
    const msg = await channel.send({
      content: 'two files',
      files: [new AttachmentBuilder(Buffer.from('one'), { name: 'one.txt' }), new AttachmentBuilder(png(8, 8), { name: 'two.png' })],
    });
    const keep = msg.attachments.find((a) => a.name === 'two.png')!;
    await msg.edit({ attachments: [keep], files: [new AttachmentBuilder(Buffer.from('three'), { name: 'three.txt' })] });
    const stored = fake.message(msg.id)!;
    expect(stored.attachments.map((a) => a.filename)).toEqual(['two.png', 'three.txt']);
    expect(stored.attachments[1]?.bytes.toString()).toBe('three');
    expect(stored.attachments[1]?.content_type).toMatch(/^text\/plain/);
    await msg.edit({ content: 'no files', attachments: [] });
    expect(fake.message(msg.id)?.attachments).toEqual([]);
    expect(fake.openApiProblems).toEqual([]);
  });

  it('buttons: deferUpdate / update edit the clicked message; a modal shown first is read back with text and files', async () => {
    const channel = client.channels.cache.get(fake.channel.id) as TextChannel;
    const sent = await channel.send({
      content: 'grid',
      components: [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('mj:U2').setLabel('U2').setStyle(ButtonStyle.Primary),
          new ButtonBuilder().setCustomId('mj:zoom').setLabel('Custom Zoom').setStyle(ButtonStyle.Secondary),
          new ButtonBuilder().setCustomId('mj:legacy').setLabel('Legacy').setStyle(ButtonStyle.Secondary),
        ),
      ],
    });
    expect(fake.message(sent.id)?.source).toBe('channel');

    // deferUpdate, then editReply edits the clicked message
    let got = nextInteraction<ButtonInteraction>(client);
    const click1 = fake.clickButton({ messageId: sent.id, customId: 'mj:U2', user: fake.bob });
    let button = await got;
    expect(button.customId).toBe('mj:U2');
    expect(button.message.id).toBe(sent.id);
    expect(button.user.id).toBe(fake.bob.id);
    await button.deferUpdate();
    await button.editReply({ content: 'grid (upscaling U2)' });
    expect((await click1.firstCallback()).type).toBe(6);
    expect(fake.message(sent.id)?.content).toBe('grid (upscaling U2)');
    expect(click1.original()?.id).toBe(sent.id);

    // update (type 7)
    got = nextInteraction<ButtonInteraction>(client);
    const click2 = fake.clickButton({ messageId: sent.id, customId: 'mj:U2' });
    button = await got;
    await button.update({ content: 'grid (U2 done)' });
    expect((await click2.firstCallback()).type).toBe(7);
    expect(fake.message(sent.id)?.content).toBe('grid (U2 done)');
    expect(fake.message(sent.id)?.edits).toHaveLength(2);

    // showModal as the first response (Label + TextInput, Label + FileUpload)
    got = nextInteraction<ButtonInteraction>(client);
    const click3 = fake.clickButton({ messageId: sent.id, customId: 'mj:zoom' });
    button = await got;
    await button.showModal(
      new ModalBuilder()
        .setCustomId('modal:zoom')
        .setTitle('Custom Zoom')
        .addLabelComponents(
          new LabelBuilder()
            .setLabel('Prompt')
            .setTextInputComponent(new TextInputBuilder().setCustomId('prompt').setStyle(TextInputStyle.Paragraph).setValue('old prompt')),
          new LabelBuilder().setLabel('Mask').setFileUploadComponent(new FileUploadBuilder().setCustomId('mask').setMinValues(1).setMaxValues(2)),
        ),
    );
    const modalCb = await click3.firstCallback();
    expect(modalCb.type).toBe(9);
    expect(modalCb.data.custom_id).toBe('modal:zoom');
    expect(click3.modal()?.['title']).toBe('Custom Zoom');

    const mask = png(32, 32, 'mask');
    const gotModal = nextInteraction<ModalSubmitInteraction>(client);
    const submit = fake.submitModal({
      customId: 'modal:zoom',
      fields: { prompt: 'new prompt --zoom 1.5' },
      files: { mask: [{ name: 'mask.png', bytes: mask }] },
    });
    const modal = await gotModal;
    expect(modal.isModalSubmit()).toBe(true);
    expect(modal.customId).toBe('modal:zoom');
    expect(modal.isFromMessage()).toBe(true);
    expect(modal.message?.id).toBe(sent.id);
    expect(modal.fields.getTextInputValue('prompt')).toBe('new prompt --zoom 1.5');
    const files = modal.fields.getUploadedFiles('mask', true);
    expect(files.size).toBe(1);
    const file = files.first()!;
    expect(file.name).toBe('mask.png');
    expect(file.contentType).toBe('image/png');
    expect(Buffer.from(await (await fetch(file.url)).arrayBuffer()).equals(mask)).toBe(true);
    await modal.deferReply({ flags: MessageFlags.Ephemeral });
    await modal.editReply('zooming');
    expect((await submit.firstCallback()).type).toBe(5);
    expect(submit.original()?.content).toBe('zooming');
    expect(submit.original()?.ephemeral).toBe(true);

    // legacy action-row modal shape still parses
    got = nextInteraction<ButtonInteraction>(client);
    fake.clickButton({ messageId: sent.id, customId: 'mj:legacy' });
    button = await got;
    await button.showModal(
      new ModalBuilder()
        .setCustomId('modal:legacy')
        .setTitle('Legacy')
        .addComponents(
          new ActionRowBuilder<TextInputBuilder>().addComponents(new TextInputBuilder().setCustomId('text').setLabel('Text').setStyle(TextInputStyle.Short)),
        ),
    );
    await fake.waitFor(() => fake.interactions().some((i) => i.modal()?.['custom_id'] === 'modal:legacy'));
    const gotLegacy = nextInteraction<ModalSubmitInteraction>(client);
    const legacySubmit = fake.submitModal({ customId: 'modal:legacy', fields: { text: 'hello' } });
    const legacy = await gotLegacy;
    expect((legacySubmit.payload['data'] as { components: { type: number }[] }).components[0]?.type).toBe(1);
    expect(legacy.fields.getTextInputValue('text')).toBe('hello');
    await legacy.deferUpdate();
    expect(fake.openApiProblems).toEqual([]);
  });

  it('faults: late callback 10062, double ack 40060, expired token 50027, closed DMs 50007, DM opening 40003, deleted message 10008', async () => {
    // 3 s window (virtual clock jump instead of sleeping)
    let got = nextInteraction<ChatInputCommandInteraction>(client);
    const late = fake.slash({ name: 'imagine', options: { prompt: 'late' } });
    let interaction = await got;
    fake.advanceClock(3500);
    const e10062 = await apiError(interaction.deferReply());
    expect(e10062.code).toBe(10062);
    expect(e10062.status).toBe(404);
    expect(late.callbacks[0]?.accepted).toBe(false);
    expect(late.callbacks[0]?.latencyMs).toBeGreaterThanOrEqual(3500);

    // double acknowledgement (discord.js guards its own objects, so send the second one raw)
    got = nextInteraction<ChatInputCommandInteraction>(client);
    const twice = fake.slash({ name: 'imagine', options: { prompt: 'twice' } });
    interaction = await got;
    await interaction.deferReply();
    const e40060 = await apiError(
      client.rest.post(Routes.interactionCallback(interaction.id, interaction.token), { body: { type: 4, data: { content: 'again' } }, auth: false }),
    );
    expect(e40060.code).toBe(40060);
    expect(e40060.status).toBe(400);
    expect(twice.callbacks.map((c) => c.accepted)).toEqual([true, false]);

    // token expiry: webhook routes answer 401 50027; the bot token survives (unauthenticated route)
    fake.expireToken(twice.id);
    const e50027 = await apiError(interaction.editReply('too late'));
    expect(e50027.code).toBe(50027);
    expect(e50027.status).toBe(401);
    got = nextInteraction<ChatInputCommandInteraction>(client);
    const aged = fake.slash({ name: 'imagine', options: { prompt: 'aged' } });
    interaction = await got;
    await interaction.deferReply();
    fake.advanceClock(15 * 60_000 + 1000);
    expect((await apiError(interaction.followUp('late follow-up'))).code).toBe(50027);
    expect(aged.followups()).toHaveLength(0);

    // per-interaction upload limit (attachment_size_limit) → 413 40005
    got = nextInteraction<ChatInputCommandInteraction>(client);
    fake.slash({ name: 'imagine', attachmentSizeLimit: 1000 });
    interaction = await got;
    expect(interaction.attachmentSizeLimit).toBe(1000);
    await interaction.deferReply();
    const e40005 = await apiError(interaction.editReply({ files: [new AttachmentBuilder(Buffer.alloc(2000), { name: 'big.bin' })] }));
    expect([e40005.status, e40005.code]).toEqual([413, 40005]);

    // DMs
    fake.closeDms(fake.bob.id);
    const bob = await client.users.fetch(fake.bob.id);
    const e50007 = await apiError(bob.send('hello'));
    expect(e50007.code).toBe(50007);
    expect(e50007.status).toBe(403);
    fake.dmOpenTooFast(1);
    const alice = await client.users.fetch(fake.alice.id);
    expect((await apiError(alice.createDM(true))).code).toBe(40003);
    const dmMessage = await alice.send('now it works');
    expect(fake.messagesIn(fake.dmChannelOf(fake.alice.id)).map((m) => m.id)).toEqual([dmMessage.id]);

    // user deletes a message → edits and fetches fail with 10008
    const channel = client.channels.cache.get(fake.channel.id) as TextChannel;
    const progress = await channel.send('progress 10%');
    fake.userDeletesMessage(progress.id);
    const e10008 = await apiError(progress.edit('progress 50%'));
    expect(e10008.code).toBe(10008);
    expect(e10008.status).toBe(404);
    expect((await apiError(channel.messages.fetch({ message: progress.id, force: true }))).code).toBe(10008);
    expect(fake.message(progress.id)?.deletedBy).toBe('user');

    // generic injected failure
    fake.failNext({ method: 'POST', pathPattern: /^\/channels\/\d+\/messages$/, status: 403, code: 50013, message: 'Missing Permissions' });
    expect((await apiError(channel.send('x'))).code).toBe(50013);
    expect(fake.calls.at(-1)?.discordCode).toBe(50013);
    await channel.send('y');

    // unknown route
    const e404 = await apiError(client.rest.get('/not/a/route'));
    expect([e404.status, e404.code]).toEqual([404, 0]);
    expect(fake.calls.at(-1)?.route).toBe('GET /not/a/route');
  });

  it('world helpers (roles, channels, overwrites) and the other interaction kinds reach discord.js', async () => {
    // roles and permissions as seen in interactions
    const role = fake.addRole(fake.guild.id, { name: 'Relay Admin', permissions: 1n << 3n });
    fake.setMemberRoles(fake.guild.id, fake.bob.id, [role.id]);
    await fake.waitFor(() => client.guilds.cache.get(fake.guild.id)?.roles.cache.has(role.id));
    const got = nextInteraction<ChatInputCommandInteraction>(client);
    fake.slash({ name: 'admin', subcommand: 'reset', options: { user: { user: fake.alice }, hard: true }, user: fake.bob });
    const sub = await got;
    expect(sub.options.getSubcommand()).toBe('reset');
    expect(sub.options.getUser('user')?.id).toBe(fake.alice.id);
    expect(sub.options.getBoolean('hard')).toBe(true);
    expect(sub.inCachedGuild() && sub.member.roles.cache.has(role.id)).toBe(true);
    expect(sub.memberPermissions?.has('Administrator')).toBe(true);
    await sub.reply('ok');

    // a new channel is announced (CHANNEL_CREATE); overwrites denying SendMessages → 50013
    const locked = fake.addChannel(fake.guild.id, {
      name: 'locked',
      permissionOverwrites: [{ id: fake.guild.id, type: 0, allow: '0', deny: String(1n << 11n) }],
    });
    const lockedChannel = await fake.waitFor(() => client.channels.cache.get(locked.id) as TextChannel | undefined);
    expect((await apiError(lockedChannel.send('hi'))).code).toBe(50013);
    fake.setChannelOverwrites(locked.id, []);
    await lockedChannel.send('now allowed');
    expect(fake.messagesIn(locked).map((m) => m.content)).toEqual(['now allowed']);
    expect((await lockedChannel.messages.fetch({ limit: 10 })).size).toBe(1);

    // autocomplete
    const gotAc = nextInteraction<AutocompleteInteraction>(client);
    const auto = fake.autocomplete({ name: 'imagine', options: { prompt: 'a ligh', chaos: 5 }, focused: 'prompt' });
    const ac = await gotAc;
    expect(ac.isAutocomplete()).toBe(true);
    expect(ac.options.getFocused(true)).toMatchObject({ name: 'prompt', value: 'a ligh' });
    await ac.respond([{ name: 'a lighthouse', value: 'a lighthouse' }]);
    expect(auto.choices()).toEqual([{ name: 'a lighthouse', value: 'a lighthouse' }]);

    // string select + user context menu
    const channel = client.channels.cache.get(fake.channel.id) as TextChannel;
    const withSelect = await channel.send({
      content: 'pick',
      components: [
        {
          type: 1,
          components: [
            {
              type: 3,
              custom_id: 'pick',
              options: [
                { label: 'A', value: 'a' },
                { label: 'B', value: 'b' },
              ],
            },
          ],
        },
      ],
    });
    const gotSelect = nextInteraction<StringSelectMenuInteraction>(client);
    fake.selectMenu({ messageId: withSelect.id, customId: 'pick', values: ['b'] });
    const select = await gotSelect;
    expect(select.isStringSelectMenu() && select.values).toEqual(['b']);
    await select.deferUpdate();
    const gotUser = nextInteraction<UserContextMenuCommandInteraction>(client);
    fake.userCommand({ name: 'Profile', targetUserId: fake.bob.id });
    const userCtx = await gotUser;
    expect(userCtx.targetUser.id).toBe(fake.bob.id);
    await userCtx.reply({ content: 'profile', flags: MessageFlags.Ephemeral });
    expect(() => fake.clickButton({ messageId: withSelect.id, customId: 'nope' })).toThrow(/no component/);
    expect(fake.openApiProblems).toEqual([]);
  });

  it('an invalid body is reported in openApiProblems (and rejected like Discord would)', async () => {
    const before = fake.openApiProblems.length;
    const err = await apiError(
      client.rest.post(Routes.channelMessages(fake.channel.id), {
        body: {
          content: 'bad button',
          components: [{ type: 1, components: [{ type: 2, style: 1, label: 'x', custom_id: 'x'.repeat(101) }] }],
        },
      }),
    );
    expect(err.code).toBe(50035);
    const problems = fake.openApiProblems.slice(before);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.route).toBe('POST /channels/:id/messages');
    expect(problems[0]?.operationId).toBe('create_message');
    expect(problems[0]?.errors.some((e) => e.path.endsWith('/custom_id') && e.keyword === 'maxLength')).toBe(true);
  });
});

describe('fake discord: rate limits', () => {
  it('8 rapid channel messages all succeed; a 429 was served and discord.js emitted rateLimited', async () => {
    const fake = await startFakeDiscord({ rateLimits: true });
    const client = await login(fake);
    // A second process sharing the bot's per-channel bucket (the client cannot know about its usage).
    const other = new REST({ api: fake.apiUrl }).setToken('fake-bot-token');
    try {
      // Same 5-per-window shape as the default, with a 1 s window to keep the test short.
      fake.setRateLimit({ routePattern: 'POST /channels/:id/messages', limit: 5, windowMs: 1000, bucket: 'fast-messages' });
      const limited: RateLimitData[] = [];
      client.rest.on('rateLimited', (info) => limited.push(info));
      const channel = client.channels.cache.get(fake.channel.id) as TextChannel;
      const results = await Promise.all([
        ...Array.from({ length: 8 }, (_, i) => channel.send(`msg ${i}`)),
        ...Array.from({ length: 3 }, (_, i) => other.post(Routes.channelMessages(fake.channel.id), { body: { content: `other ${i}` } })),
      ]);
      expect(results).toHaveLength(11);
      expect(fake.messagesIn(fake.channel).filter((m) => m.content.startsWith('msg '))).toHaveLength(8);
      expect(fake.rateLimitHits.length).toBeGreaterThanOrEqual(1);
      expect(fake.rateLimitHits[0]?.route).toBe('POST /channels/:id/messages');
      expect(fake.calls.filter((c) => c.status === 429).length).toBe(fake.rateLimitHits.length);
      expect(limited.length).toBeGreaterThanOrEqual(1);
      expect(limited[0]?.route).toBe('/channels/:id/messages');

      // Interaction callbacks are exempt from rate limits; token webhooks have their own bucket.
      const got = nextInteraction<ChatInputCommandInteraction>(client);
      const ix = fake.slash({ name: 'imagine' });
      const interaction = await got;
      await interaction.deferReply();
      await interaction.editReply('edited');
      expect((await ix.firstCallback()).accepted).toBe(true);
      expect(fake.callsTo('POST /interactions/:id/:token/callback').at(-1)?.status).toBe(204);
      expect(ix.original()?.content).toBe('edited');
    } finally {
      await client.destroy();
      await fake.close();
    }
  });
});

describe('fake discord: gateway', () => {
  it('resumes after a disconnect (4000) and after an outage, and still receives interactions', async () => {
    const fake = await startFakeDiscord({ heartbeatIntervalMs: 1000 });
    const client = await login(fake);
    try {
      fake.disconnectGateway(4000);
      await fake.waitFor(() => fake.resumes === 1 && fake.gatewayConnected, { timeoutMs: 5000 });
      expect(fake.identifies).toBe(1);
      let got = nextInteraction<ChatInputCommandInteraction>(client);
      let ix = fake.slash({ name: 'imagine', options: { prompt: 'after resume' } });
      let interaction = await got;
      expect(interaction.options.getString('prompt')).toBe('after resume');
      await interaction.reply('still here');
      expect((await ix.firstCallback()).type).toBe(4);

      // Outage: connections dropped and refused; an interaction dispatched meanwhile is replayed on RESUME.
      fake.stopGateway();
      await fake.waitFor(() => !fake.gatewayConnected, { timeoutMs: 2000 });
      got = nextInteraction<ChatInputCommandInteraction>(client);
      ix = fake.slash({ name: 'imagine', options: { prompt: 'during outage' } });
      await new Promise((r) => setTimeout(r, 700));
      fake.startGateway();
      interaction = await got;
      expect(interaction.options.getString('prompt')).toBe('during outage');
      expect(fake.resumes).toBe(2);
      expect(fake.identifies).toBe(1);
      await interaction.deferReply();
      expect((await ix.firstCallback()).accepted).toBe(true);

      // Heartbeats are ACKed (no zombie reconnects) over a couple of intervals.
      await new Promise((r) => setTimeout(r, 2200));
      expect(fake.heartbeats).toBeGreaterThanOrEqual(2);
      expect(fake.resumes).toBe(2);
      expect(client.ws.ping).toBeGreaterThanOrEqual(0);
    } finally {
      await client.destroy();
      await fake.close();
    }
  });
});
