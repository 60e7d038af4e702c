/**
 * A strict parser for the small YAML subset our compose file uses: block mappings and sequences by
 * indentation (spaces only), plain / quoted scalars, one-line flow sequences `[a, "b"]`, comments.
 * Anything else (anchors, multi-line strings, flow mappings, tabs, duplicate keys) throws, so a test that
 * parses the file fails instead of reading it wrongly.
 */
type Yaml = string | number | boolean | null | Yaml[] | { [k: string]: Yaml };

interface Line {
  no: number;
  indent: number;
  text: string;
}

export function parseMiniYaml(source: string): Yaml {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    if (/\t/.test(raw.replace(/#.*$/, ''))) throw new Error(`line ${i + 1}: tab in indentation or value`);
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '') return;
    lines.push({ no: i + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  });
  if (lines.length === 0) return null;
  const [value, next] = block(lines, 0, lines[0]!.indent);
  if (next !== lines.length) throw new Error(`line ${lines[next]!.no}: unexpected indentation`);
  return value;
}

function block(lines: Line[], start: number, indent: number): [Yaml, number] {
  const first = lines[start]!;
  if (first.text.startsWith('- ') || first.text === '-') {
    const out: Yaml[] = [];
    let i = start;
    while (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith('-')) {
      const rest = lines[i]!.text.slice(1).trim();
      if (rest === '' || /^[^"'[]*:(\s|$)/.test(rest)) throw new Error(`line ${lines[i]!.no}: nested blocks in sequences are not supported`);
      out.push(scalar(rest, lines[i]!.no));
      i++;
    }
    return [out, i];
  }
  const out: { [k: string]: Yaml } = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const m = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line.text);
    if (!m) throw new Error(`line ${line.no}: expected "key: value", got ${JSON.stringify(line.text)}`);
    const key = m[1]!;
    if (key in out) throw new Error(`line ${line.no}: duplicate key ${key}`);
    if (m[2] !== undefined && m[2] !== '') {
      out[key] = scalar(m[2], line.no);
      i++;
    } else if (i + 1 < lines.length && lines[i + 1]!.indent > indent) {
      [out[key], i] = block(lines, i + 1, lines[i + 1]!.indent);
    } else {
      out[key] = null;
      i++;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) throw new Error(`line ${lines[i]!.no}: unexpected indentation`);
  return [out, i];
}

function scalar(text: string, no: number): Yaml {
  const t = text.trim();
  if (t.startsWith('[')) {
    if (!t.endsWith(']')) throw new Error(`line ${no}: unterminated flow sequence`);
    const inner = t.slice(1, -1).trim();
    return inner === '' ? [] : splitFlow(inner).map((s) => scalar(s, no));
  }
  if (t.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(t)) throw new Error(`line ${no}: bad double-quoted string`);
    return JSON.parse(t) as string;
  }
  if (t.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(t)) throw new Error(`line ${no}: bad single-quoted string`);
    return t.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[{&*!|>%@`]/.test(t)) throw new Error(`line ${no}: unsupported YAML construct ${JSON.stringify(t)}`);
  if (t === 'true' || t === 'false') return t === 'true';
  if (t === 'null' || t === '~') return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/:\s/.test(t)) throw new Error(`line ${no}: unquoted ": " inside a value`);
  return t;
}

function splitFlow(inner: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (const ch of inner) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (ch === ',') {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  parts.push(cur.trim());
  return parts;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}
