import { ApplicationCommandOptionType as T, ApplicationCommandType, ChannelType, PermissionFlagsBits, type ChatInputCommandInteraction } from 'discord.js';
import { relativeTime } from '../src/community/community.js';
import { FAILURE_KINDS, submitFailureKind } from '../src/community/failureKinds.js';
import type { FailureCountsByKind } from '../src/community/failureLog.js';
import { DEFAULT_QUEUED, parseDuration, type GuildRules, type Limits } from '../src/community/rules.js';
import type { Command, Ctx } from '../src/discord/interactions/interactionKit.js';
import { UserError } from '../src/discord/interactions/interactionKit.js';
import { fastBudgetLimitLines, fastUsageReply } from '../src/discord/flows/fastUsage.js';
import { resolveLocale } from '../src/i18n/index.js';
import { escapePromptMarkdown } from '../src/mj/content.js';
import { jobStatus } from '../src/discord/messages/jobLines.js';
import type { MjFeatureProbe, MjFeatureState } from '../src/upstream/mjTypes.js';

/**
 * /admin limits | rules | ban | unban | status | job — steering the bot from Discord. Visible only to members with
 * Manage Server (default_member_permissions), and checked again here: the permission is the rule, not the menu.
 */
export const admin: Command<ChatInputCommandInteraction> = {
  name: 'admin',
  defer: 'ephemeral',
  guildOnly: true,
  data: (loc) => ({
    type: ApplicationCommandType.ChatInput,
    ...loc.both('commands.admin', 'admin'),
    default_member_permissions: String(PermissionFlagsBits.ManageGuild),
    contexts: [0],
    integration_types: [0],
    options: [
      {
        type: T.Subcommand,
        ...loc.both('commands.admin.limits', 'limits'),
        options: [
          { type: T.Integer, ...loc.both('commands.admin.limits.concurrent', 'concurrent'), min_value: 0, max_value: 100 },
          { type: T.Integer, ...loc.both('commands.admin.limits.cooldown', 'cooldown'), min_value: 0, max_value: 86_400 },
          { type: T.Integer, ...loc.both('commands.admin.limits.daily', 'daily'), min_value: 0, max_value: 100_000 },
          { type: T.Integer, ...loc.both('commands.admin.limits.serverDaily', 'server-daily'), min_value: 0, max_value: 10_000_000 },
          { type: T.Integer, ...loc.both('commands.admin.limits.fastMinutes', 'fast-minutes'), min_value: 0, max_value: 1440 },
          { type: T.Integer, ...loc.both('commands.admin.limits.serverFastMinutes', 'server-fast-minutes'), min_value: 0, max_value: 1_000_000 },
          { type: T.Integer, ...loc.both('commands.admin.limits.queued', 'queued'), min_value: 0, max_value: 50 },
          { type: T.Integer, ...loc.both('commands.admin.limits.serverRunning', 'server-running'), min_value: 0, max_value: 1000 },
          { type: T.Role, ...loc.both('commands.admin.limits.role', 'role') },
          { type: T.Boolean, ...loc.both('commands.admin.limits.clearRole', 'clear-role') },
        ],
      },
      {
        type: T.Subcommand,
        ...loc.both('commands.admin.rules', 'rules'),
        options: [
          {
            type: T.Channel,
            ...loc.both('commands.admin.rules.allowChannel', 'allow-channel'),
            channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.GuildForum],
          },
          {
            type: T.Channel,
            ...loc.both('commands.admin.rules.disallowChannel', 'disallow-channel'),
            channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.GuildForum],
          },
          { type: T.Role, ...loc.both('commands.admin.rules.allowRole', 'allow-role') },
          { type: T.Role, ...loc.both('commands.admin.rules.disallowRole', 'disallow-role') },
          {
            type: T.String,
            ...loc.both('commands.admin.rules.buttons', 'buttons'),
            choices: [
              loc.choice('commands.admin.choices.buttons.owner', 'owner'),
              loc.choice('commands.admin.choices.buttons.anyone', 'anyone'),
              loc.choice('commands.admin.choices.buttons.roles', 'roles'),
              loc.choice('commands.admin.choices.buttons.default', 'default'),
            ],
          },
          { type: T.Role, ...loc.both('commands.admin.rules.buttonRole', 'button-role') },
          {
            type: T.String,
            ...loc.both('commands.admin.rules.delivery', 'delivery'),
            choices: [
              loc.choice('commands.choices.delivery.channel', 'channel'),
              loc.choice('commands.choices.delivery.dm', 'dm'),
              loc.choice('commands.choices.delivery.both', 'both'),
              loc.choice('commands.admin.choices.buttons.default', 'default'),
            ],
          },
          { type: T.String, ...loc.both('commands.admin.rules.nsfwOnly', 'nsfw-only'), max_length: 32 },
          { type: T.Channel, ...loc.both('commands.admin.rules.logChannel', 'log-channel'), channel_types: [ChannelType.GuildText] },
          { type: T.Boolean, ...loc.both('commands.admin.rules.noLog', 'no-log') },
          {
            type: T.String,
            ...loc.both('commands.admin.rules.language', 'language'),
            choices: [
              loc.choice('commands.admin.choices.language.auto', 'auto'),
              loc.choice('commands.admin.choices.language.en', 'en-US'),
              loc.choice('commands.admin.choices.language.zh', 'zh-CN'),
            ],
          },
          { type: T.Boolean, ...loc.both('commands.admin.rules.reset', 'reset') },
        ],
      },
      {
        type: T.Subcommand,
        ...loc.both('commands.admin.ban', 'ban'),
        options: [
          { type: T.User, ...loc.both('commands.admin.ban.user', 'user'), required: true },
          { type: T.String, ...loc.both('commands.admin.ban.reason', 'reason'), max_length: 200 },
          { type: T.String, ...loc.both('commands.admin.ban.duration', 'duration'), max_length: 10 },
        ],
      },
      {
        type: T.Subcommand,
        ...loc.both('commands.admin.unban', 'unban'),
        options: [{ type: T.User, ...loc.both('commands.admin.unban.user', 'user'), required: true }],
      },
      { type: T.Subcommand, ...loc.both('commands.admin.status', 'status') },
      { type: T.Subcommand, ...loc.both('commands.admin.usage', 'usage') },
      {
        type: T.Subcommand,
        ...loc.both('commands.admin.job', 'job'),
        options: [{ type: T.String, ...loc.both('commands.admin.job.id', 'id'), required: true, max_length: 32 }],
      },
    ],
  }),

  async run(interaction, ctx) {
    if (!interaction.inGuild() || !interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) throw new UserError('community.adminOnly');
    const guildId = interaction.guildId;
    const sub = interaction.options.getSubcommand();
    const reply = (content: string) => interaction.editReply({ content: content.slice(0, 2000), allowedMentions: { parse: [] } });
    switch (sub) {
      case 'limits':
        return void (await reply(await setLimits(interaction, ctx, guildId)));
      case 'rules':
        return void (await reply(await setRules(interaction, ctx, guildId)));
      case 'ban':
        return void (await reply(await ban(interaction, ctx, guildId)));
      case 'unban': {
        const user = interaction.options.getUser('user', true);
        await ctx.services.community.update(guildId, (r) => void delete r.bans[user.id]);
        await ctx.services.community.log(guildId, 'community.log.unban', { user: `<@${user.id}>`, by: `<@${interaction.user.id}>` });
        return void (await reply(ctx.t('community.admin.unbanned', { user: `<@${user.id}>` })));
      }
      case 'status':
        return void (await reply(await status(ctx, guildId)));
      case 'usage': // the day's fast minutes as text, and as a chart attached to the same ephemeral reply
        return void (await interaction.editReply({ ...(await fastUsageReply(ctx, guildId)), allowedMentions: { parse: [] } }));
      case 'job':
        return void (await reply(await jobDetails(ctx, interaction.options.getString('id', true).trim(), guildId)));
    }
  },
};

async function setLimits(i: ChatInputCommandInteraction, ctx: Ctx, guildId: string): Promise<string> {
  const o = i.options;
  const role = o.getRole('role');
  const patch: Partial<Limits> = {};
  const concurrent = o.getInteger('concurrent');
  const cooldown = o.getInteger('cooldown');
  const daily = o.getInteger('daily');
  if (concurrent !== null) patch.concurrent = concurrent;
  if (cooldown !== null) patch.cooldownSec = cooldown;
  if (daily !== null) patch.dailyPerUser = daily;
  const fastMinutes = o.getInteger('fast-minutes');
  if (fastMinutes !== null) patch.fastMinutes = fastMinutes;
  const serverFastMinutes = o.getInteger('server-fast-minutes');
  const queued = o.getInteger('queued');
  if (queued !== null) patch.queued = queued;
  const serverRunning = o.getInteger('server-running');
  const serverDaily = o.getInteger('server-daily');
  const rules = await ctx.services.community.update(guildId, (r) => {
    if (role && o.getBoolean('clear-role')) delete r.roleLimits[role.id];
    else if (role) r.roleLimits[role.id] = { ...(r.roleLimits[role.id] ?? {}), ...patch };
    else r.limits = { ...r.limits, ...patch };
    if (serverDaily !== null) r.dailyServer = serverDaily;
    if (serverFastMinutes !== null) r.serverFastMinutes = serverFastMinutes;
    if (serverRunning !== null) r.maxRunning = serverRunning;
  });
  return limitsSummary(rules, ctx);
}

export function limitsSummary(rules: GuildRules, ctx: Ctx): string {
  const n = (v: number) => (v === 0 ? ctx.t('community.admin.unlimited') : String(v));
  // a role's line names only what the role changes; the server's line names everything
  const line = (l: Partial<Limits>) =>
    [
      l.concurrent === undefined ? '' : ctx.t('community.admin.limit.concurrent', { value: n(l.concurrent) }),
      l.cooldownSec === undefined ? '' : ctx.t('community.admin.limit.cooldown', { value: cooldownText(l.cooldownSec, ctx) }),
      l.dailyPerUser === undefined ? '' : ctx.t('community.admin.limit.daily', { value: n(l.dailyPerUser) }),
    ]
      .filter(Boolean)
      .join(' · ') || ctx.t('community.admin.limit.asServer');
  const lines = [`**${ctx.t('community.admin.limitsTitle')}**`, line(rules.limits), ctx.t('community.admin.serverDaily', { max: n(rules.dailyServer) })];
  for (const [role, l] of Object.entries(rules.roleLimits)) lines.push(`<@&${role}>: ${line(l)}`);
  lines.push(...fastBudgetLimitLines(rules, ctx));
  lines.push(ctx.t('queue.limitsLine', { queued: rules.limits.queued ?? DEFAULT_QUEUED, running: n(rules.maxRunning ?? 0) }));
  return lines.join('\n');
}

async function setRules(i: ChatInputCommandInteraction, ctx: Ctx, guildId: string): Promise<string> {
  const o = i.options;
  const nsfw = o.getString('nsfw-only')?.trim().replace(/^\//, '').toLowerCase();
  if (nsfw && !/^[-_a-z0-9]{1,32}$/.test(nsfw)) throw new UserError('community.admin.badCommandName', { name: nsfw });
  const rules = await ctx.services.community.update(guildId, (r) => {
    if (o.getBoolean('reset')) {
      r.channels = [];
      r.roles = [];
      r.buttons = undefined;
      r.defaultDelivery = undefined;
      r.nsfwOnly = [];
      r.logChannelId = undefined;
      r.locale = undefined;
    }
    const add = (list: string[], v: string | undefined) => (v && !list.includes(v) ? [...list, v] : list);
    const remove = (list: string[], v: string | undefined) => list.filter((x) => x !== v);
    r.channels = remove(add(r.channels, o.getChannel('allow-channel')?.id), o.getChannel('disallow-channel')?.id);
    r.roles = remove(add(r.roles, o.getRole('allow-role')?.id), o.getRole('disallow-role')?.id);
    const buttons = o.getString('buttons');
    const buttonRole = o.getRole('button-role')?.id;
    if (buttons === 'default') r.buttons = undefined;
    else if (buttons) r.buttons = { access: buttons as 'owner' | 'anyone' | 'roles', roles: r.buttons?.roles ?? [] };
    if (buttonRole) r.buttons = { access: r.buttons?.access ?? 'roles', roles: add(r.buttons?.roles ?? [], buttonRole) };
    const delivery = o.getString('delivery');
    if (delivery === 'default') r.defaultDelivery = undefined;
    else if (delivery) r.defaultDelivery = delivery as 'channel' | 'dm' | 'both';
    if (nsfw) r.nsfwOnly = r.nsfwOnly.includes(nsfw) ? remove(r.nsfwOnly, nsfw) : add(r.nsfwOnly, nsfw);
    const log = o.getChannel('log-channel')?.id;
    if (log) r.logChannelId = log;
    if (o.getBoolean('no-log')) r.logChannelId = undefined;
    const language = o.getString('language');
    if (language === 'auto') r.locale = undefined;
    else if (language === 'en-US' || language === 'zh-CN') r.locale = language;
  });
  // a language switch is answered in the new language (the interaction's was chosen before the switch)
  const locale = resolveLocale(rules.locale, i.locale, i.guildLocale);
  return rulesSummary(rules, { ...ctx, locale, t: (key, params) => ctx.services.i18n.t(locale, key, params) });
}

/** Where results go when neither the member nor the server chose (see pickDelivery in src/discord/flows/jobOptions.ts). */
const DEPLOYMENT_DELIVERY = 'channel';

export function rulesSummary(r: GuildRules, ctx: Ctx): string {
  const any = ctx.t('community.admin.any');
  const none = ctx.t('community.admin.none');
  const deploymentDefault = (value: string) => ctx.t('community.admin.deploymentDefault', { value });
  const buttons = (b: NonNullable<GuildRules['buttons']>) =>
    b.access === 'roles' && b.roles.length === 0
      ? ctx.t('community.admin.value.buttons.rolesNone')
      : ctx.t(`community.admin.value.buttons.${b.access}`, { roles: b.roles.map((x) => `<@&${x}>`).join(', ') });
  const language = r.locale ? ctx.t(r.locale === 'zh-CN' ? 'commands.admin.choices.language.zh.name' : 'commands.admin.choices.language.en.name') : null;
  return [
    `**${ctx.t('community.admin.rulesTitle')}**`,
    ctx.t('community.admin.rulesChannels', { list: r.channels.map((c) => `<#${c}>`).join(', ') || any }),
    ctx.t('community.admin.rulesRoles', { list: r.roles.map((c) => `<@&${c}>`).join(', ') || any }),
    ctx.t('community.admin.rulesButtons', { access: r.buttons ? buttons(r.buttons) : deploymentDefault(buttons(ctx.services.config.buttons)) }),
    ctx.t('community.admin.rulesDelivery', {
      delivery: r.defaultDelivery
        ? ctx.t(`community.admin.value.delivery.${r.defaultDelivery}`)
        : deploymentDefault(ctx.t(`community.admin.value.delivery.${DEPLOYMENT_DELIVERY}`)),
    }),
    ctx.t('community.admin.rulesNsfw', { list: r.nsfwOnly.map((c) => `/${c}`).join(', ') || none }),
    ctx.t('community.admin.rulesLog', { channel: r.logChannelId ? `<#${r.logChannelId}>` : none }),
    ctx.t('community.admin.rulesLanguage', { language: language ?? ctx.t('community.admin.languageAuto') }),
    ctx.t('community.admin.rulesBans', { count: Object.keys(r.bans).length }),
  ].join('\n');
}

async function ban(i: ChatInputCommandInteraction, ctx: Ctx, guildId: string): Promise<string> {
  const user = i.options.getUser('user', true);
  const reason = i.options.getString('reason')?.trim() ?? '';
  const durationText = i.options.getString('duration');
  let until: number | undefined;
  if (durationText) {
    const ms = parseDuration(durationText);
    if (!ms) throw new UserError('community.admin.badDuration', { text: durationText });
    until = ctx.services.now() + ms;
  }
  if (user.id === i.user.id) throw new UserError('community.admin.cannotBanSelf');
  await ctx.services.community.update(guildId, (r) => {
    r.bans[user.id] = { reason, by: i.user.id, at: ctx.services.now(), until };
  });
  // i18next context: `…_reason` adds the reason when one was given; a ban without an end lasts until an unban
  const params = { user: `<@${user.id}>`, by: `<@${i.user.id}>`, reason, context: reason ? 'reason' : '', when: until ? relativeTime(until) : '' };
  await ctx.services.community.log(guildId, until ? 'community.log.ban' : 'community.log.banForever', params);
  return ctx.t(until ? 'community.admin.banned' : 'community.admin.bannedForever', params);
}

async function status(ctx: Ctx, guildId: string): Promise<string> {
  const s = ctx.services;
  const [health, reach, today, features, queue, rules] = await Promise.all([
    s.health(),
    probeProxy(ctx),
    s.community.serverToday(guildId),
    s.mj.probeFeatures(),
    s.queue.overview(guildId),
    s.community.rules(guildId),
  ]);
  const cap = rules?.maxRunning ?? 0;
  const counts = s.tracker.counts();
  const ok = (v: boolean) => (v ? '✅' : '❌');
  const circuits = Object.entries(health.checks.upstream)
    .map(([name, state]) => `${UPSTREAM_NAMES[name] ?? name}: ${ctx.t(`community.status.circuit.${state}`)}`)
    .join(' · ');
  return [
    `**${ctx.t('community.status.title')}**`,
    `${ok(health.checks.gateway)} ${ctx.t('community.status.gateway')}`,
    `${ok(health.checks.store)} ${ctx.t('community.status.store')} (${s.store.kind})`,
    `${ok(reach.ok)} ${ctx.t('community.status.proxy')}: ${reach.ok ? ctx.t('community.status.reachable', { ms: reach.ms }) : ctx.t('community.status.unreachable', { reason: reach.reason })}`,
    ctx.t('community.status.circuits', { list: circuits }),
    ...featureLines(ctx, features),
    ctx.t('community.status.inFlight', {
      total: s.tracker.size,
      list:
        Object.entries(counts.byProvider)
          .map(([p, n]) => `${p} ${n}`)
          .join(', ') || '—',
    }),
    ctx.t('community.status.queued', { count: counts.byStatus.queued ?? 0 }),
    // the server's fair queue, from the store: every process's jobs count
    ctx.t('queue.statusLine', { running: queue.running, waiting: queue.waiting, cap: cap > 0 ? cap : ctx.t('queue.noCap') }),
    ctx.t('community.status.today', { count: today }),
    failuresLine(ctx, await s.community.failuresLastHour(guildId)),
  ].join('\n');
}

/** the upstreams' names as admins know them (health.checks.upstream is keyed by these ids) */
const UPSTREAM_NAMES: Record<string, string> = { 'mj-proxy': 'Midjourney Proxy', imgopen: 'Img Open', picwish: 'PicWish' };

/** "3 failures in the last hour: the image service had an error 2 · took too long 1" (every process's, from the store) */
function failuresLine(ctx: Ctx, byKind: FailureCountsByKind): string {
  const kinds = FAILURE_KINDS.filter((k) => byKind[k]);
  const count = kinds.reduce((sum, k) => sum + (byKind[k] ?? 0), 0);
  if (count === 0) return ctx.t('community.status.noFailures');
  return ctx.t('community.status.failures', { count, list: kinds.map((k) => `${ctx.t(`community.failure.kind.${k}`)} ${byKind[k]}`).join(' · ') });
}

/** "30 s", or "none" for no cooldown */
function cooldownText(seconds: number, ctx: Ctx): string {
  return seconds === 0 ? ctx.t('community.admin.limit.noCooldown') : ctx.t('community.admin.limit.seconds', { count: seconds });
}

/** Whether video and image upload work through this proxy, as far as a probe can tell (see MjProxyClient.probeFeatures). */
function featureLines(ctx: Ctx, probe: MjFeatureProbe): string[] {
  const mark = (state: MjFeatureState) => (state === 'available' ? '✅' : state === 'unknown' ? '❔' : '❌');
  const word = (state: MjFeatureState) => ctx.t(`videoCommand.status.${state}`);
  const viaPrompt = probe.video !== 'available' && ctx.services.mj.capabilities().video === 'prompt';
  const video = viaPrompt
    ? `❔ ${ctx.t('videoCommand.status.video')}: ${ctx.t('videoCommand.status.prompt')}`
    : `${mark(probe.video)} ${ctx.t('videoCommand.status.video')}: ${word(probe.video)}${probe.video === 'available' ? ` (${ctx.t('videoCommand.status.later')})` : ''}`;
  return [video, `${mark(probe.upload)} ${ctx.t('videoCommand.status.upload')}: ${word(probe.upload)}`];
}

/** Can the proxy be reached right now? (a fetch of a task that does not exist: nothing is created) */
async function probeProxy(ctx: Ctx): Promise<{ ok: boolean; ms: number; reason: string }> {
  const started = ctx.services.now();
  try {
    await ctx.services.mj.fetchTask('0000000000000000');
    return { ok: true, ms: ctx.services.now() - started, reason: '' };
  } catch (err) {
    const e = err as { kind?: string; details?: { circuitOpen?: boolean } };
    if (e.kind === 'not-found') return { ok: true, ms: ctx.services.now() - started, reason: '' };
    const reason = e.details?.circuitOpen ? 'community.status.circuitOpen' : `community.failure.kind.${submitFailureKind(err) ?? 'other'}`;
    return { ok: false, ms: 0, reason: ctx.t(reason) };
  }
}

/** A job of this server (another server's job, or a DM's, is "not found" as for an unknown id: ids are not secrets). */
async function jobDetails(ctx: Ctx, id: string, guildId: string): Promise<string> {
  const job = await ctx.services.jobs.get(id);
  if (!job || job.owner.guildId !== guildId) throw new UserError('community.admin.noSuchJob', { id });
  const results = job.messages.results.map((r) => `https://discord.com/channels/${job.owner.guildId ?? '@me'}/${r.channelId}/${r.messageId}`);
  const provider = { mj: 'Midjourney Proxy', imgopen: 'Img Open', picwish: 'PicWish' }[job.provider] ?? job.provider;
  return [
    `**${ctx.t('community.job.title', { id: job.id })}**`,
    ctx.t('community.job.owner', { user: `<@${job.owner.userId}>`, channel: `<#${job.owner.channelId}>` }),
    ctx.t('community.job.kind', { kind: ctx.t(`info.kind.${job.kind}`), provider }),
    job.upstreamId ? ctx.t('community.job.upstream', { upstream: job.upstreamId }) : '',
    ctx.t('community.job.status', { status: jobStatus(job, ctx) }),
    job.error ? ctx.t('community.job.error', { error: ctx.services.i18n.msg(ctx.locale, job.error) }) : '',
    job.finishedAt
      ? ctx.t('community.job.times', { created: relativeTime(job.createdAt), finished: relativeTime(job.finishedAt) })
      : ctx.t('community.job.created', { created: relativeTime(job.createdAt) }),
    ctx.t('community.job.prompt', { prompt: escapePromptMarkdown(job.prompt.slice(0, 500)) }),
    results.length ? ctx.t('community.job.results', { links: results.join(' ') }) : '',
  ]
    .filter(Boolean)
    .join('\n');
}
