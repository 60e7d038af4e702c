// Small node:http helpers: body reading/parsing and replies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MjEnvelope } from '../../../src/upstream/mjTypes.js';
import type { RecordedRequest } from './types.js';

/** Largest request body accepted (bigger → 413). */
export const MAX_BODY = 64 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) tooLarge = true;
    else chunks.push(b);
  }
  return tooLarge ? 'too-large' : Buffer.concat(chunks);
}

export type BodyKind = 'json' | 'form' | 'empty' | 'other';

export interface ParsedBody {
  kind: BodyKind;
  /** JSON value, form object, raw text, or undefined when empty */
  value: unknown;
  /** JSON that did not parse */
  invalid?: boolean;
}

export function parseBody(raw: Buffer, contentType: string): ParsedBody {
  if (raw.length === 0) return { kind: 'empty', value: undefined };
  const text = raw.toString('utf8');
  const ct = contentType.toLowerCase();
  if (ct.includes('application/json') || ct.includes('+json')) {
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown };
    } catch {
      return { kind: 'json', value: text, invalid: true };
    }
  }
  if (ct.includes('application/x-www-form-urlencoded')) {
    const obj: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(text)) obj[k] = v;
    return { kind: 'form', value: obj };
  }
  return { kind: 'other', value: text };
}

/** A reply helper bound to one request; fills in the recorded status. */
export class Reply {
  constructor(
    readonly res: ServerResponse,
    private readonly rec: RecordedRequest,
  ) {}

  raw(status: number, body: string | Buffer, contentType?: string): void {
    if (this.res.headersSent || this.res.destroyed) return;
    this.rec.status = status;
    const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body) };
    if (contentType) headers['content-type'] = contentType;
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  redirect(status: number, location: string): void {
    if (this.res.headersSent || this.res.destroyed) return;
    this.rec.status = status;
    this.res.writeHead(status, { location, 'content-length': 0 });
    this.res.end();
  }

  json(status: number, value: unknown): void {
    this.raw(status, JSON.stringify(value), 'application/json; charset=utf-8');
  }

  envelope(code: number, description: string, result: MjEnvelope['result'] = null, properties: Record<string, unknown> = {}, status = 200): void {
    this.json(status, { code, description, result, properties });
  }

  /** TA's `Result` envelope (model binding errors, unexpected exceptions). */
  taResult(message: string, status = 200): void {
    this.json(status, { success: false, code: -1, message, timestamp: Date.now() });
  }

  empty(status: number): void {
    this.raw(status, '');
  }

  text(status: number, text: string): void {
    this.raw(status, text, 'text/plain; charset=utf-8');
  }
}
