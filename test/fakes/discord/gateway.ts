// The gateway: HELLO → IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME with replay,
// forced disconnects, and an outage mode that refuses new connections.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

export interface GatewayFrame {
  op: number;
  d: unknown;
  s?: number | null;
  t?: string | null;
}

export interface GatewaySession {
  id: string;
  token: string;
  intents: number;
  shard: [number, number];
  seq: number;
  /** Dispatches not yet known to be received, for RESUME replay (bounded). */
  buffer: GatewayFrame[];
  socket: WebSocket | null;
}

export interface GatewayHooks {
  /** READY `d` for a new session. */
  ready(session: GatewaySession): Record<string, unknown>;
  /** GUILD_CREATE `d` payloads sent right after READY. */
  guildCreates(session: GatewaySession): Record<string, unknown>[];
  log?: ((line: string) => void) | undefined;
}

const REPLAY_BUFFER = 1000;

/** Discord's shard formula: a guild's events go to shard (guild_id >> 22) % shard_count; DMs go to shard 0. */
export function shardOf(guildId: string | null | undefined, shardCount: number): number {
  if (!guildId || shardCount <= 1) return 0;
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** The guild a dispatch is about (guild_id, or the id of a GUILD_* event's guild object), if any. */
function guildOfDispatch(t: string, d: unknown): string | undefined {
  if (!d || typeof d !== 'object') return undefined;
  const o = d as Record<string, unknown>;
  if (typeof o['guild_id'] === 'string') return o['guild_id'];
  if (/^GUILD_(CREATE|UPDATE|DELETE)$/.test(t) && typeof o['id'] === 'string') return o['id'];
  return undefined;
}
/** Close codes after which Discord does not keep the session. */
const SESSION_ENDING_CODES = new Set([4004, 4010, 4011, 4012, 4013, 4014]);

export class Gateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly sockets = new Map<WebSocket, { session: GatewaySession | null }>();
  private stopped = false;
  /** When false, heartbeats are not ACKed (the client declares the connection zombied and resumes). */
  ackHeartbeats = true;
  identifies = 0;
  resumes = 0;
  heartbeats = 0;
  url = '';

  constructor(
    private readonly heartbeatIntervalMs: number,
    private readonly hooks: GatewayHooks,
  ) {}

  private log(line: string): void {
    this.hooks.log?.(`[gateway] ${line}`);
  }

  get connected(): boolean {
    for (const [ws, st] of this.sockets) if (st.session && ws.readyState === WebSocket.OPEN) return true;
    return false;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Called from the HTTP server's `upgrade` event for /gateway. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.stopped) {
      this.log('refusing connection (gateway stopped)');
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  private send(ws: WebSocket, frame: GatewayFrame): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(frame));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const state = { session: null as GatewaySession | null };
    this.sockets.set(ws, state);
    ws.on('close', () => {
      this.sockets.delete(ws);
      if (state.session && state.session.socket === ws) state.session.socket = null;
    });
    ws.on('error', () => {});
    const v = query.get('v');
    if (v !== null && v !== '10') {
      ws.close(4012, 'Invalid API version');
      return;
    }
    this.send(ws, { op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs, _trace: ['["fake-gateway",{}]'] }, s: null, t: null });
    ws.on('message', (raw) => {
      let frame: GatewayFrame;
      try {
        frame = JSON.parse(String(raw)) as GatewayFrame;
      } catch {
        ws.close(4002, 'Error while decoding payload.');
        return;
      }
      this.onFrame(ws, state, frame);
    });
  }

  private onFrame(ws: WebSocket, state: { session: GatewaySession | null }, frame: GatewayFrame): void {
    switch (frame.op) {
      case 1:
        this.heartbeats++;
        if (this.ackHeartbeats) this.send(ws, { op: 11, d: null, s: null, t: null });
        return;
      case 2:
        this.identify(ws, state, frame.d as Record<string, unknown>);
        return;
      case 6:
        this.resume(ws, state, frame.d as Record<string, unknown>);
        return;
      case 3: // presence update
      case 4: // voice state update
      case 8: // request guild members
      case 31: // request soundboard sounds
        if (!state.session) ws.close(4003, 'Not authenticated.');
        return;
      default:
        ws.close(4001, 'Unknown opcode.');
    }
  }

  private identify(ws: WebSocket, state: { session: GatewaySession | null }, d: Record<string, unknown>): void {
    if (state.session) {
      ws.close(4005, 'Already authenticated.');
      return;
    }
    const token = typeof d['token'] === 'string' ? d['token'] : '';
    if (!token) {
      ws.close(4004, 'Authentication failed.');
      return;
    }
    // The same bot identifying again gives up its detached sessions.
    for (const [id, s] of this.sessions) if (s.token === token && !s.socket) this.sessions.delete(id);
    const shard = Array.isArray(d['shard']) && d['shard'].length === 2 ? (d['shard'] as [number, number]) : [0, 1];
    if (!(Number(shard[1]) >= 1 && Number(shard[0]) >= 0 && Number(shard[0]) < Number(shard[1]))) {
      ws.close(4010, 'Invalid shard.');
      return;
    }
    const session: GatewaySession = {
      id: randomBytes(16).toString('hex'),
      token,
      intents: Number(d['intents'] ?? 0),
      shard: [Number(shard[0]), Number(shard[1])],
      seq: 0,
      buffer: [],
      socket: ws,
    };
    this.sessions.set(session.id, session);
    state.session = session;
    this.identifies++;
    this.log(`IDENTIFY → session ${session.id} intents=${session.intents} shard=${session.shard.join('/')}`);
    this.sendDispatch(session, 'READY', this.hooks.ready(session));
    for (const g of this.hooks.guildCreates(session)) if (this.routes(session, String(g['id']))) this.sendDispatch(session, 'GUILD_CREATE', g);
  }

  private resume(ws: WebSocket, state: { session: GatewaySession | null }, d: Record<string, unknown>): void {
    const session = this.sessions.get(String(d['session_id'] ?? ''));
    if (!session || session.token !== d['token']) {
      this.log('RESUME of unknown session → op 9 false');
      this.send(ws, { op: 9, d: false, s: null, t: null });
      return;
    }
    if (session.socket && session.socket !== ws) session.socket.close(4000, 'Session resumed elsewhere');
    session.socket = ws;
    state.session = session;
    this.resumes++;
    const from = Number(d['seq'] ?? 0);
    const missed = session.buffer.filter((f) => (f.s ?? 0) > from);
    this.log(`RESUME session ${session.id} from seq ${from}, replaying ${missed.length}`);
    for (const f of missed) this.send(ws, f);
    this.sendDispatch(session, 'RESUMED', null);
  }

  private sendDispatch(session: GatewaySession, t: string, d: unknown): void {
    session.seq += 1;
    const frame: GatewayFrame = { op: 0, t, s: session.seq, d };
    session.buffer.push(frame);
    if (session.buffer.length > REPLAY_BUFFER) session.buffer.shift();
    if (session.socket) this.send(session.socket, frame);
  }

  /** Whether a session's shard receives the events of this guild (undefined/null: DMs, shard 0). */
  routes(session: GatewaySession, guildId: string | null | undefined): boolean {
    return shardOf(guildId, session.shard[1]) === session.shard[0];
  }

  /**
   * Dispatches an event to every live session (attached or awaiting resume) whose intents
   * include `intentBit` (undefined = no intent needed) and whose shard the event's guild maps to
   * (one shard per guild, DMs to shard 0, as Discord routes them). Returns the number of sessions.
   */
  dispatch(t: string, d: unknown, intentBit?: number): number {
    let n = 0;
    const guildId = guildOfDispatch(t, d);
    for (const s of this.sessions.values()) {
      if (intentBit !== undefined && (s.intents & intentBit) === 0) continue;
      if (!this.routes(s, guildId)) continue;
      this.sendDispatch(s, t, d);
      n++;
    }
    return n;
  }

  /** Whether any session would receive a dispatch (connected or resumable). */
  hasSession(): boolean {
    return this.sessions.size > 0;
  }

  /** Closes every connection with `code`; sessions stay resumable unless the code ends them. */
  disconnect(code = 4000, reason = 'Fake disconnect'): void {
    for (const [ws, st] of this.sockets) {
      if (st.session && SESSION_ENDING_CODES.has(code)) this.sessions.delete(st.session.id);
      try {
        ws.close(code, reason);
      } catch {
        ws.terminate(); // codes that cannot be sent (e.g. 1006): drop the TCP connection
      }
    }
  }

  /** Sends op 7 RECONNECT to every connection (the client reconnects and resumes). */
  requestReconnect(): void {
    for (const ws of this.sockets.keys()) this.send(ws, { op: 7, d: null, s: null, t: null });
  }

  /** Sends op 9 (resumable = false) and forgets the sessions: the client re-identifies. */
  invalidateSessions(): void {
    for (const [ws, st] of this.sockets) if (st.session) this.send(ws, { op: 9, d: false, s: null, t: null });
    this.sessions.clear();
  }

  /** Outage: drop all connections abruptly and refuse new ones (HTTP 503) until start(). */
  stop(): void {
    this.stopped = true;
    for (const ws of this.sockets.keys()) ws.terminate();
  }

  start(opts: { invalidateSessions?: boolean } = {}): void {
    if (opts.invalidateSessions) this.sessions.clear();
    this.stopped = false;
  }

  close(): void {
    this.stopped = true;
    for (const ws of this.sockets.keys()) ws.terminate();
    this.sockets.clear();
    this.sessions.clear();
    this.wss.close();
  }
}
