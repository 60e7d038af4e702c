import { fileURLToPath } from 'node:url';
// Validates request bodies the bot sends against Discord's OpenAPI 3.1 spec.
// The spec is loaded once (lazily), registered with ajv as one big schema, and each
// operation's requestBody schema is compiled on first use only.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

export const DEFAULT_SPEC_PATH = fileURLToPath(new URL('./spec/openapi.json', import.meta.url));
const SPEC_ID = 'https://fake-discord.invalid/openapi.json';

export interface SchemaError {
  path: string;
  message: string;
  keyword: string;
  params: Record<string, unknown>;
}

export interface ValidationResult {
  ok: boolean;
  operationId: string | null;
  errors: SchemaError[];
}

type JsonObject = Record<string, unknown>;

interface OperationEntry {
  operationId: string;
  /** One validator per union branch (anyOf / oneOf at the top), or a single one. */
  branches: { schema: JsonObject; validate: ValidateFunction }[];
}

type AddFormats = (ajv: Ajv2020) => unknown;

function resolveAddFormats(): AddFormats {
  const mod = addFormatsModule as unknown as AddFormats & { default?: AddFormats };
  return typeof mod.default === 'function' ? mod.default : mod;
}

/** Rewrites local `#/components/...` refs so they resolve against the registered spec. */
function absolutizeRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(absolutizeRefs);
  if (value && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value as JsonObject)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${SPEC_ID}${v}` : absolutizeRefs(v);
    }
    return out;
  }
  return value;
}

function isRecord(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Known spec/docs disagreements, fixed in favour of the docs (the spec README says the docs win):
 * - `default_member_permissions` is a permission bitfield *string* in the docs (and discord.js
 *   sends a string); the spec types it as an integer.
 */
function applyDocsOverrides(schemas: JsonObject): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isRecord(node)) return;
    const props = node['properties'];
    if (isRecord(props) && isRecord(props['default_member_permissions'])) {
      props['default_member_permissions'] = { type: ['string', 'integer', 'null'], pattern: '^[0-9]+$', minimum: 0 };
    }
    for (const v of Object.values(node)) visit(v);
  };
  visit(schemas);
}

const NULL_BRANCH = (b: unknown) => isRecord(b) && b['type'] === 'null' && Object.keys(b).length === 1;

/**
 * Rewrites unions so validation errors point at the real problem instead of listing every
 * alternative's failure:
 * - `oneOf/anyOf: [{type:null}, X]` becomes `if null then ok else X`;
 * - unions whose branches are `$ref`s with disjoint `type` enums (components, callbacks) become
 *   `if type ∈ E_A then A` per branch, plus a check that `type` is one of the known values.
 * Other unions are left alone. Mutates `schemas` in place.
 */
function discriminateUnions(schemas: JsonObject): void {
  const typeEnumOf = (branch: unknown): unknown[] | null => {
    if (!isRecord(branch) || typeof branch['$ref'] !== 'string') return null;
    const m = /^#\/components\/schemas\/([^/]+)$/.exec(branch['$ref']);
    const target = m?.[1] ? schemas[m[1]] : undefined;
    const props = isRecord(target) ? target['properties'] : undefined;
    const t = isRecord(props) ? props['type'] : undefined;
    if (!isRecord(t)) return null;
    if (Array.isArray(t['enum'])) return t['enum'] as unknown[];
    if ('const' in t) return [t['const']];
    return null;
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isRecord(node)) return;
    for (const v of Object.values(node)) visit(v);
    for (const key of ['oneOf', 'anyOf'] as const) {
      const branches = node[key];
      if (!Array.isArray(branches)) continue;
      const nonNull = branches.filter((b) => !NULL_BRANCH(b));
      const nullable = nonNull.length !== branches.length;
      const extra: JsonObject[] = [];
      if (nonNull.length === 1 && nullable) {
        extra.push({ if: { type: 'null' }, else: nonNull[0] });
      } else if (nonNull.length > 1) {
        const enums = nonNull.map(typeEnumOf);
        if (enums.some((e) => e === null)) continue;
        const all = (enums as unknown[][]).flat();
        if (new Set(all.map(String)).size !== all.length) continue; // overlapping: keep the union
        const checks: JsonObject[] = [
          { type: 'object', required: ['type'], properties: { type: { enum: all } } },
          ...nonNull.map((b, i) => ({
            if: { required: ['type'], properties: { type: { enum: enums[i] } } },
            then: b,
          })),
        ];
        extra.push(nullable ? { if: { type: 'null' }, else: { allOf: checks } } : { allOf: checks });
      } else {
        continue;
      }
      delete node[key];
      node['allOf'] = [...(Array.isArray(node['allOf']) ? (node['allOf'] as unknown[]) : []), ...extra];
    }
  };
  visit(schemas);
}

export class OpenApiValidator {
  private spec: JsonObject | null = null;
  private ajv: Ajv2020 | null = null;
  private readonly ops = new Map<string, OperationEntry | null>();

  constructor(private readonly specPath = DEFAULT_SPEC_PATH) {}

  private load(): { spec: JsonObject; ajv: Ajv2020 } {
    if (this.spec && this.ajv) return { spec: this.spec, ajv: this.ajv };
    const spec = JSON.parse(readFileSync(this.specPath, 'utf8')) as JsonObject;
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, allowUnionTypes: true });
    resolveAddFormats()(ajv);
    // Discord-specific formats: checked loosely, they only describe the numeric/string flavour.
    const int32 = (n: number) => Number.isInteger(n) && n >= -2147483648 && n <= 2147483647;
    ajv.addFormat('int32', { type: 'number', validate: int32 });
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    ajv.addFormat('double', { type: 'number', validate: () => true });
    ajv.addFormat('snowflake', { type: 'string', validate: (s: string) => /^(0|[1-9][0-9]*)$/.test(s) });
    ajv.addFormat('nonce', { type: 'string', validate: () => true });
    const components = spec['components'];
    if (isRecord(components) && isRecord(components['schemas'])) {
      applyDocsOverrides(components['schemas']);
      discriminateUnions(components['schemas']);
    }
    ajv.addSchema({ $id: SPEC_ID, components } as JsonObject);
    this.spec = spec;
    this.ajv = ajv;
    return { spec, ajv };
  }

  /** The operation for an OpenAPI path template + method, compiled on first use. */
  private operation(specPath: string, method: string): OperationEntry | null {
    const key = `${method.toLowerCase()} ${specPath}`;
    if (this.ops.has(key)) return this.ops.get(key) ?? null;
    const { spec, ajv } = this.load();
    const paths = spec['paths'];
    const item = isRecord(paths) ? paths[specPath] : undefined;
    const op = isRecord(item) ? item[method.toLowerCase()] : undefined;
    const content = isRecord(op) && isRecord(op['requestBody']) ? op['requestBody']['content'] : undefined;
    const json = isRecord(content) ? content['application/json'] : undefined;
    const schema = isRecord(json) ? json['schema'] : undefined;
    if (!isRecord(op) || !isRecord(schema)) {
      this.ops.set(key, null);
      return null;
    }
    const abs = absolutizeRefs(schema) as JsonObject;
    const union = (abs['anyOf'] ?? abs['oneOf']) as unknown;
    const branchSchemas: JsonObject[] =
      Array.isArray(union) && Object.keys(abs).every((k) => ['anyOf', 'oneOf', 'x-discord-union'].includes(k)) ? (union as JsonObject[]) : [abs];
    const entry: OperationEntry = {
      operationId: String(op['operationId'] ?? key),
      branches: branchSchemas.map((s) => ({ schema: s, validate: ajv.compile(s) })),
    };
    this.ops.set(key, entry);
    return entry;
  }

  /** Resolves a `$ref`'d branch to the component schema, to read its `type` enum. */
  private branchTypeEnum(branch: JsonObject): unknown[] | null {
    const ref = branch['$ref'];
    if (typeof ref !== 'string' || !ref.startsWith(`${SPEC_ID}#/components/schemas/`)) return null;
    const name = ref.slice(`${SPEC_ID}#/components/schemas/`.length);
    const { spec } = this.load();
    const comps = spec['components'];
    const schemas = isRecord(comps) ? comps['schemas'] : undefined;
    const target = isRecord(schemas) ? schemas[name] : undefined;
    const props = isRecord(target) ? target['properties'] : undefined;
    const typeProp = isRecord(props) ? props['type'] : undefined;
    const en = isRecord(typeProp) ? typeProp['enum'] : undefined;
    return Array.isArray(en) ? en : null;
  }

  /** Whether the spec documents a JSON request body for this operation. */
  hasBody(specPath: string, method: string): boolean {
    return this.operation(specPath, method) !== null;
  }

  validate(specPath: string, method: string, body: unknown): ValidationResult {
    const op = this.operation(specPath, method);
    if (!op) return { ok: true, operationId: null, errors: [] };
    let branches = op.branches;
    // Discriminate unions by `type` (interaction callbacks) so errors come from the relevant branch.
    if (branches.length > 1 && isRecord(body) && 'type' in body) {
      const matching = branches.filter((b) => this.branchTypeEnum(b.schema)?.includes(body['type']) ?? false);
      if (matching.length > 0) branches = matching;
    }
    let best: SchemaError[] | null = null;
    for (const b of branches) {
      if (b.validate(body)) return { ok: true, operationId: op.operationId, errors: [] };
      const raw = b.validate.errors ?? [];
      // `if` errors only say "a nested branch failed"; keep them only when nothing else explains it.
      const specific = raw.filter((e) => e.keyword !== 'if');
      const errs = (specific.length > 0 ? specific : raw).map(toSchemaError);
      if (!best || errs.length < best.length) best = errs;
    }
    return { ok: false, operationId: op.operationId, errors: best ?? [] };
  }
}

function toSchemaError(e: ErrorObject): SchemaError {
  return {
    path: e.instancePath || '/',
    message: e.message ?? e.keyword,
    keyword: e.keyword,
    params: e.params as Record<string, unknown>,
  };
}
