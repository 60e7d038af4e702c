import { randomBytes } from 'node:crypto';

/**
 * A message's multipart/form-data body built once, as one Buffer: each file's bytes copied in exactly once, then
 * sent as they are (no Blob copy per file, no stream chunk copy on the way out, as a FormData upload makes).
 * The encoding is the one undici gives the FormData @discordjs/rest builds from `files` (the files in order, each with
 * its name, filename and type, then `payload_json`; the same escaping, the closing CRLF): what Discord receives is
 * the same bytes, but for the random boundary.
 */

export interface MultipartFile {
  /** the form field, e.g. `files[0]` */
  key: string;
  name: string;
  data: Uint8Array;
  contentType: string;
}

export interface MultipartBody {
  body: Buffer;
  /** the request's Content-Type, with the boundary */
  contentType: string;
}

export function multipartBody(files: readonly MultipartFile[], payloadJson: string, boundary = newBoundary()): MultipartBody {
  const prefix = `--${boundary}\r\nContent-Disposition: form-data`;
  const parts: Uint8Array[] = [];
  for (const f of files) {
    const type = blobType(f.contentType) || 'application/octet-stream';
    parts.push(
      Buffer.from(`${prefix}; name="${escape(normalizeLinefeeds(f.key))}"; filename="${escape(f.name)}"\r\nContent-Type: ${type}\r\n\r\n`),
      f.data,
      CRLF,
    );
  }
  parts.push(Buffer.from(`${prefix}; name="payload_json"\r\n\r\n${normalizeLinefeeds(payloadJson)}\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

const CRLF = Buffer.from('\r\n');

function newBoundary(): string {
  return `----mj-relay-${randomBytes(12).toString('hex')}`;
}

/** as the HTML form encoding escapes a name or filename */
function escape(s: string): string {
  return s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

function normalizeLinefeeds(s: string): string {
  return s.replace(/\r?\n|\r/g, '\r\n');
}

/** a Blob's `type`: lower case, or empty when it holds a character outside U+0020–U+007E */
function blobType(t: string): string {
  return /^[\x20-\x7e]*$/.test(t) ? t.toLowerCase() : '';
}
