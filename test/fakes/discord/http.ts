// Request-body parsing (JSON and multipart with payload_json + files[n]) and response helpers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DiscordHttpError, Errors } from './errors.js';
import type { RecordedFile } from './types.js';

/** Discord rejects request bodies above 25 MiB (files + JSON) with 413/40005. */
export const MAX_REQUEST_BYTES = 25 * 1024 * 1024;

export interface ParsedBody {
  json: unknown;
  files: RecordedFile[];
  multipart: boolean;
}

export async function readRaw(req: IncomingMessage, limit = MAX_REQUEST_BYTES + 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw Errors.entityTooLarge();
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export async function parseBody(req: IncomingMessage, raw: Buffer): Promise<ParsedBody> {
  const type = String(req.headers['content-type'] ?? '');
  if (raw.length === 0) return { json: undefined, files: [], multipart: false };
  if (raw.length > MAX_REQUEST_BYTES) throw Errors.entityTooLarge();
  if (type.startsWith('multipart/form-data')) {
    const form = await new Request('http://fake.invalid/', {
      method: 'POST',
      headers: { 'content-type': type },
      body: raw,
    }).formData();
    let json: unknown = undefined;
    const files: RecordedFile[] = [];
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') {
          try {
            json = JSON.parse(value);
          } catch {
            throw Errors.invalidFormBody({ payload_json: { _errors: [{ code: 'JSON_INVALID', message: 'Invalid JSON' }] } });
          }
        } else {
          json = { ...(json as Record<string, unknown> | undefined), [field]: value };
        }
        continue;
      }
      const file = value as File;
      files.push({
        field,
        name: file.name,
        contentType: file.type || 'application/octet-stream',
        bytes: Buffer.from(await file.arrayBuffer()),
      });
    }
    return { json, files, multipart: true };
  }
  const text = raw.toString('utf8');
  try {
    return { json: JSON.parse(text), files: [], multipart: false };
  } catch {
    throw new DiscordHttpError(400, 50109, 'The request body contains invalid JSON.');
  }
}

/** Index of a `files[n]` field (or position among files when named otherwise). */
export function fileIndex(file: RecordedFile, position: number): number {
  const m = /^files\[(\d+)\]$/.exec(file.field) ?? /^file(\d+)$/.exec(file.field);
  return m?.[1] !== undefined ? Number(m[1]) : position;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}
