/**
 * The naive baseline of the busy-channel figures in `npm run bench`: what a simple bot does, with no write budget
 * at all. For each /imagine it defers, posts a progress message in the channel, polls the proxy every second and
 * edits that message on every progress change, then posts the result image with its prompt — leaving Discord's rate
 * limits to @discordjs/rest (which waits them out, 429s included). Run by bench/run.ts in its own process, against
 * a fake world of its own: DISCORD_API_URL, DISCORD_TOKEN, MJ_BASE_URL, MJ_API_SECRET.
 */
import { Client, Events, GatewayIntentBits, MessageFlags, Routes, type ChatInputCommandInteraction } from 'discord.js';
import { request } from 'undici';

const POLL_MS = 1000;
/** a job still running after this is given up (keeps every loop bounded) */
const GIVE_UP_MS = 10 * 60_000;

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`naive bot: ${name} is not set`);
  return value;
};
const proxyUrl = required('MJ_BASE_URL');
const proxySecret = required('MJ_API_SECRET');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Task {
  status: string;
  progress: string | null;
  imageUrl: string | null;
  failReason: string | null;
}

async function proxy<T>(path: string, body?: unknown): Promise<T> {
  const res = await request(`${proxyUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', 'mj-api-secret': proxySecret },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.body.json()) as T;
}

const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: required('DISCORD_API_URL') } });

async function imagine(ix: ChatInputCommandInteraction): Promise<void> {
  await ix.deferReply({ flags: MessageFlags.Ephemeral });
  const prompt = ix.options.getString('prompt', true);
  const byline = `**${prompt}** - <@${ix.user.id}>`;
  const taskId = (await proxy<{ result: string }>('/mj/submit/imagine', { prompt })).result;
  const progress = (await client.rest.post(Routes.channelMessages(ix.channelId), { body: { content: `${byline} (waiting)` } })) as { id: string };
  let shown = '';
  for (const until = Date.now() + GIVE_UP_MS; Date.now() < until;) {
    await sleep(POLL_MS);
    const task = await proxy<Task>(`/mj/task/${taskId}/fetch`);
    if (task.status === 'SUCCESS' && task.imageUrl) {
      const image = Buffer.from(await (await request(task.imageUrl)).body.arrayBuffer());
      await client.rest.post(Routes.channelMessages(ix.channelId), {
        body: { content: `${byline} (fast)`, allowed_mentions: { users: [ix.user.id] } },
        files: [{ name: `${taskId}.png`, data: image, contentType: 'image/png' }],
      });
      return;
    }
    if (task.status === 'FAILURE' || task.status === 'CANCEL') {
      await client.rest.post(Routes.channelMessages(ix.channelId), { body: { content: `${byline} ❌ ${task.failReason ?? task.status}` } });
      return;
    }
    if (task.progress && task.progress !== shown) {
      shown = task.progress;
      await client.rest.patch(Routes.channelMessage(ix.channelId, progress.id), { body: { content: `${byline} (${shown})` } });
    }
  }
}

client.on(Events.InteractionCreate, (ix) => {
  if (!ix.isChatInputCommand() || ix.commandName !== 'imagine') return;
  imagine(ix).catch((err: unknown) => process.stderr.write(`naive bot: ${(err as Error).message}\n`));
});
client.once(Events.ClientReady, () => process.stdout.write('naive bot ready\n'));
process.on('SIGTERM', () => {
  void client.destroy().finally(() => process.exit(0));
});
await client.login(required('DISCORD_TOKEN'));
