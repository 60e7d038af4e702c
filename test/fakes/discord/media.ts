// Content-type and image-dimension sniffing for attachments (PNG, JPEG, GIF, WebP).

export interface MediaInfo {
  contentType: string | null;
  width?: number;
  height?: number;
}

const EXT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  mp4: 'video/mp4',
  pdf: 'application/pdf',
};

function sniffDimensions(b: Buffer): MediaInfo | null {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('ascii', 12, 16) === 'IHDR') {
    return { contentType: 'image/png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  if (b.length >= 10 && (b.toString('ascii', 0, 6) === 'GIF87a' || b.toString('ascii', 0, 6) === 'GIF89a')) {
    return { contentType: 'image/gif', width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  }
  if (b.length >= 30 && b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WEBP') {
    const chunk = b.toString('ascii', 12, 16);
    if (chunk === 'VP8X') return { contentType: 'image/webp', width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
    if (chunk === 'VP8L') {
      const bits = b.readUInt32LE(21);
      return { contentType: 'image/webp', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    if (chunk === 'VP8 ') return { contentType: 'image/webp', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
    return { contentType: 'image/webp' };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return { contentType: 'image/jpeg' };
      const marker = b[i + 1] ?? 0;
      const len = b.readUInt16BE(i + 2);
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof) return { contentType: 'image/jpeg', height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
      i += 2 + len;
    }
    return { contentType: 'image/jpeg' };
  }
  return null;
}

/** Content type (explicit > magic bytes > extension) and dimensions (explicit > sniffed). */
export function describeMedia(
  filename: string,
  bytes: Buffer,
  explicit?: { contentType?: string | undefined; width?: number | undefined; height?: number | undefined },
): MediaInfo {
  const sniffed = sniffDimensions(bytes);
  const ext = filename.includes('.') ? filename.slice(filename.lastIndexOf('.') + 1).toLowerCase() : '';
  const contentType = explicit?.contentType ?? sniffed?.contentType ?? EXT_TYPES[ext] ?? null;
  const info: MediaInfo = { contentType };
  const width = explicit?.width ?? sniffed?.width;
  const height = explicit?.height ?? sniffed?.height;
  if (width !== undefined && height !== undefined) {
    info.width = width;
    info.height = height;
  }
  return info;
}
