import { randomBytes } from 'node:crypto';
import type { Provider } from '../jobs/model.js';
import type { Logger } from '../log.js';
import type { RedisClient } from './redis.js';

export interface Nudge {
  provider: Provider;
  upstreamId: string;
  final: boolean;
}

const CHANNEL = 'mj-relay:nudges';

/**
 * Upstream callbacks reach whichever process PUBLIC_URL points at, but only the job's lease holder polls it.
 * A process that gets a callback for a job it does not follow publishes it on Redis; every other process hears
 * it and nudges its own tracker (unknown ids are ignored there too). Without this the holder would only see the
 * change at its next safety poll (WEBHOOK_SAFETY_POLL_MS).
 */
export class NudgeRelay {
  private readonly sender = randomBytes(6).toString('hex');

  private constructor(
    private publisher: RedisClient,
    private subscriber: RedisClient,
    private logger: Logger,
  ) {}

  static async start(client: RedisClient, onNudge: (n: Nudge) => void, logger: Logger): Promise<NudgeRelay> {
    const subscriber = client.duplicate();
    subscriber.on('error', () => undefined); // the main connection logs Redis trouble
    await subscriber.connect();
    const relay = new NudgeRelay(client, subscriber, logger);
    await subscriber.subscribe(CHANNEL, (message: string) => {
      const n = parse(message);
      if (n && n.from !== relay.sender) onNudge(n.nudge);
    });
    return relay;
  }

  /** Tell the other processes (fire and forget: the safety poll covers a lost message). */
  publish(n: Nudge): void {
    this.publisher
      .publish(CHANNEL, JSON.stringify({ from: this.sender, ...n }))
      .catch((err: unknown) => this.logger.debug({ err }, 'could not relay a callback'));
  }

  async close(): Promise<void> {
    await this.subscriber.close().catch(() => undefined);
  }
}

function parse(message: string): { from: string; nudge: Nudge } | undefined {
  try {
    const o = JSON.parse(message) as Record<string, unknown>;
    if (typeof o.from !== 'string' || typeof o.provider !== 'string' || typeof o.upstreamId !== 'string') return undefined;
    return { from: o.from, nudge: { provider: o.provider as Provider, upstreamId: o.upstreamId, final: o.final === true } };
  } catch {
    return undefined;
  }
}
