/**
 * The harness's own floor for the acknowledgement figures: a bare gateway client (no discord.js, no bot, no store)
 * that answers every INTERACTION_CREATE with the deferral the bot sends (an update for a button press, a reply for a
 * command) the moment it is parsed. `npm run bench` runs it in its own process, exactly where the bot would run, on
 * a fake Discord of its own, its bursts taking turns with the bot's; whatever latency it shows is the cost of the
 * fake Discord, loopback and this machine, not of mj-relay.
 */
import { request } from 'undici';
import WebSocket from 'ws';

const api = process.env['DISCORD_API_URL']!;
const token = process.env['DISCORD_TOKEN']!;

const gateway = (await (await request(`${api}/v10/gateway/bot`, { headers: { authorization: `Bot ${token}` } })).body.json()) as { url: string };
const ws = new WebSocket(`${gateway.url}/?v=10&encoding=json`);
let seq: number | null = null;
let heartbeat: NodeJS.Timeout | undefined;

ws.on('message', (raw) => {
  const frame = JSON.parse(String(raw)) as { op: number; t: string | null; s: number | null; d: any };
  if (frame.s !== null) seq = frame.s;
  if (frame.op === 10) {
    heartbeat = setInterval(() => ws.send(JSON.stringify({ op: 1, d: seq })), frame.d.heartbeat_interval as number);
    ws.send(JSON.stringify({ op: 2, d: { token, intents: 1, properties: { os: 'linux', browser: 'bench', device: 'bench' } } }));
  } else if (frame.t === 'READY') {
    process.stdout.write('bare client ready\n');
  } else if (frame.t === 'INTERACTION_CREATE') {
    const { id, token: itoken, type } = frame.d as { id: string; token: string; type: number };
    // the acknowledgement the bot sends: a button press defers an update of its message (6), a command a reply (5)
    const body = type === 3 ? { type: 6 } : { type: 5, data: { flags: 64 } };
    void request(`${api}/v10/interactions/${id}/${itoken}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(
      (r) => r.body.dump(),
      () => undefined,
    );
  }
});
ws.on('close', () => {
  clearInterval(heartbeat);
  process.exit(0);
});
process.on('SIGTERM', () => {
  clearInterval(heartbeat);
  ws.close();
  setTimeout(() => process.exit(0), 500).unref();
});
