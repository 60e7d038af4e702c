// Discord snowflakes: (ms since 2015-01-01) << 22 | worker/process/increment.
export const DISCORD_EPOCH = 1420070400000n;

export class SnowflakeGenerator {
  private increment = 0n;

  /** A fresh 18–19 digit snowflake (monotonic within this generator). */
  next(at: number = Date.now()): string {
    this.increment = (this.increment + 1n) & 0xfffn;
    const ts = BigInt(at) - DISCORD_EPOCH;
    return ((ts << 22n) | (1n << 17n) | this.increment).toString();
  }
}

export function snowflakeTimestamp(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}
