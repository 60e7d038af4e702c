// A minimal, structurally valid MP4 built in code (no binary fixtures): ftyp + moov(mvhd) + mdat, padded to a size.
// The duration sits in mvhd (timescale 1000), so tests can read back which clip they were given.

function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

function mvhd(durationMs: number): Buffer {
  const b = Buffer.alloc(100); // version 0: flags, times, timescale, duration, rate, volume, matrix, next track id
  b.writeUInt32BE(1000, 12); // timescale
  b.writeUInt32BE(Math.max(0, Math.round(durationMs)), 16); // duration
  b.writeUInt32BE(0x00010000, 20); // rate 1.0
  b.writeUInt16BE(0x0100, 24); // volume 1.0
  const matrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
  matrix.forEach((v, i) => b.writeUInt32BE(v, 36 + i * 4));
  b.writeUInt32BE(2, 96); // next track id
  return box('mvhd', b);
}

/** An MP4 of `bytes` bytes in all (at least ~150), saying it lasts `durationS` seconds; `seed` varies the payload. */
export function makeMp4(opts: { bytes: number; durationS: number; seed?: number }): Buffer {
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2avc1mp41', 'latin1'));
  const moov = box('moov', mvhd(opts.durationS * 1000));
  const payload = Math.max(0, opts.bytes - ftyp.length - moov.length - 8);
  const data = Buffer.alloc(payload, (opts.seed ?? 7) & 0xff);
  return Buffer.concat([ftyp, moov, box('mdat', data)]);
}

/** What an MP4 built by makeMp4 says about itself: its brand and duration; undefined when it is not one. */
export function readMp4(bytes: Buffer): { brand: string; durationS: number } | undefined {
  if (bytes.length < 16 || bytes.toString('latin1', 4, 8) !== 'ftyp') return undefined;
  const brand = bytes.toString('latin1', 8, 12);
  let at = bytes.readUInt32BE(0);
  for (let guard = 0; guard < 16 && at + 8 <= bytes.length; guard++) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (type === 'moov' && bytes.toString('latin1', at + 12, at + 16) === 'mvhd') {
      const mv = at + 16;
      return { brand, durationS: bytes.readUInt32BE(mv + 16) / bytes.readUInt32BE(mv + 12) };
    }
    if (size < 8) break;
    at += size;
  }
  return { brand, durationS: 0 };
}
