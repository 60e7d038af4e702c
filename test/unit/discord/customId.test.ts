import { describe, expect, it } from 'vitest';
import { componentsByRoute } from '../../../components/index.js';
import { mjButtonModalFor } from '../../../components/mjButtonModal.js';
import { remixChoiceRows, remixPromptModal } from '../../../components/remix.js';
import { toolButtonModalFor } from '../../../components/toolButtonModal.js';
import { CUSTOM_ID_MAX, encode, parse, ROUTES, routeOfPrefix, type RouteName } from '../../../src/discord/interactions/customId.js';
import { buttonCustomId } from '../../../src/discord/messages/drawnButtons.js';
import type { AcceptedKind, Ctx } from '../../../src/discord/interactions/interactionKit.js';
import { settingsPanel } from '../../../src/discord/flows/settingsPanel.js';
import { planToolButtons } from '../../../src/discord/flows/toolButtons.js';
import { newId, type Job } from '../../../src/jobs/model.js';
import { mapButton, type MappedButton } from '../../../src/mj/buttons.js';
import { describeButtons, seedButton } from '../../../src/mj/resultButtons.js';
import type { ButtonRecord } from '../../../src/store/repositories.js';
import { makeJob } from '../../support/unitKit.js';
import { Renderer } from '../../../src/discord/messages/renderer.js';
import { createI18n } from '../../../src/i18n/index.js';

const i18n = await createI18n();

// the wording does not matter here, only the ids: every text is its key
const ctx = { locale: 'en-US', t: (key: string) => key, services: { config: { http: { maskEditor: false } } } as never } satisfies Ctx;

function job(over: Partial<Job> = {}): Job {
  return makeJob({ id: newId(), upstreamId: '1712345678901234', status: 'succeeded', progress: 100, prompt: 'a lighthouse at dusk', ...over });
}

function pressed<S>(spec: S, parent: Job, customId: string) {
  const key = newId(10);
  const record: ButtonRecord = {
    key,
    jobId: parent.id,
    upstreamTaskId: parent.upstreamId ?? '',
    customId,
    kind: 'unknown',
    ownerId: 'u',
    createdAt: Date.now(),
  };
  return { key, record, parent, spec };
}

const mapped = (customId: string): MappedButton => mapButton({ customId })!;

/** Every custom_id the bot writes, by the code that writes it, with the route and kind it must come back as. */
function writtenIds(): { id: string; route: RouteName; kind: AcceptedKind }[] {
  const out: { id: string; route: RouteName; kind: AcceptedKind }[] = [];
  // buttons drawn on results (delivery): upstream buttons, describe picks, ✉️, the tool buttons
  const upstream = [
    mapped('MJ::JOB::upsample::1::abc'),
    mapped('MJ::CustomZoom::abc'),
    mapped('MJ::Inpaint::1::abc::SOLO'),
    ...describeButtons('1️⃣ a cat\n\n2️⃣ a dog', []),
  ];
  for (const b of upstream) out.push({ id: buttonCustomId(b, newId(10)), route: 'mjButton', kind: 'button' });
  out.push({ id: buttonCustomId(seedButton(), newId(10)), route: 'seed', kind: 'button' });
  const swap = job({ kind: 'faceswap', provider: 'imgopen', upstream: { engine: 'v2' } });
  const tools = planToolButtons(swap, { engines: ['v2', 'proxy', 'multi'], picwish: true }).flat();
  expect(tools.length).toBeGreaterThan(1);
  for (const b of tools) out.push({ id: buttonCustomId(b, newId(10)), route: 'toolButton', kind: 'button' });
  // the modals those buttons open
  for (const b of upstream) out.push({ id: mjButtonModalFor(pressed(b, job(), b.customId), ctx).custom_id, route: 'mjButtonModal', kind: 'modal' });
  for (const action of ['swap', 'inpaint'] as const)
    out.push({ id: toolButtonModalFor(pressed(action, swap, `relay:${action}`), ctx).custom_id, route: 'toolButtonModal', kind: 'modal' });
  // the remix prompt the upstream asked for: two buttons, then a modal
  const waiting = job({ status: 'modal' });
  for (const row of remixChoiceRows(waiting, ctx) as { components: { custom_id: string }[] }[]) {
    for (const c of row.components) out.push({ id: c.custom_id, route: 'remix', kind: 'button' });
  }
  out.push({ id: remixPromptModal(waiting, 'a cat', ctx).custom_id, route: 'remixModal', kind: 'modal' });
  // Cancel on a job waiting in its server's queue (drawn on its progress message)
  for (const row of new Renderer(i18n).progress(job({ status: 'waiting', queuePosition: 2 })).components ?? []) {
    for (const c of row.components) out.push({ id: (c as { custom_id: string }).custom_id, route: 'cancelJob', kind: 'button' });
  }
  // the /settings selects
  for (const row of settingsPanel({}, ctx).components) {
    for (const c of row.components) out.push({ id: (c as { custom_id: string }).custom_id, route: 'settings', kind: 'select' });
  }
  return out;
}

describe('custom_id codec', () => {
  it('gives every route its own prefix, and every route one component of that route', () => {
    const prefixes = Object.values(ROUTES).map((r) => r.prefix);
    expect(new Set(prefixes).size).toBe(prefixes.length);
    for (const [name, piece] of Object.entries(componentsByRoute)) expect(piece.route).toBe(name);
    expect(Object.keys(componentsByRoute).sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it('reads back every id the bot writes to its route, within 100 characters, on a component that accepts its kind', () => {
    const written = writtenIds();
    for (const { id, route, kind } of written) {
      expect(id.length, id).toBeLessThanOrEqual(CUSTOM_ID_MAX);
      expect(parse(id)?.route, id).toBe(route);
      expect(componentsByRoute[route].accepts, id).toBe(kind);
    }
    // a route nothing writes is dead, or this list has not caught up with a new writer
    expect(new Set(written.map((w) => w.route))).toEqual(new Set(Object.keys(ROUTES)));
  });

  it('keeps parsing the ids already on posted messages exactly as before (restart-proof buttons)', () => {
    expect(parse('mj:b:abcdefghij')).toEqual({ route: 'mjButton', rest: 'abcdefghij' });
    expect(parse('mj:f:abcdefghij')).toEqual({ route: 'mjButtonModal', rest: 'abcdefghij' });
    expect(parse('mj:r:k3m9x2pq7w:edit')).toEqual({ route: 'remix', rest: 'k3m9x2pq7w:edit' });
    expect(parse('mj:x:k3m9x2pq7w')).toEqual({ route: 'remixModal', rest: 'k3m9x2pq7w' });
    expect(parse('mj:t:abcdefghij')).toEqual({ route: 'toolButton', rest: 'abcdefghij' });
    expect(parse('mj:tm:abcdefghij')).toEqual({ route: 'toolButtonModal', rest: 'abcdefghij' });
    expect(parse('mj:s:abcdefghij')).toEqual({ route: 'seed', rest: 'abcdefghij' });
    expect(parse('mj:set:delivery')).toEqual({ route: 'settings', rest: 'delivery' });
    expect(encode('remix', 'k3m9x2pq7w', 'go')).toBe('mj:r:k3m9x2pq7w:go');
  });

  it('refuses foreign, forged and retired ids', () => {
    for (const id of ['not-ours', 'mj:zz:whatever', 'mj:b:', 'mj:b:has space', 'MJ:b:abc', `mj:b:${'a'.repeat(91)}`]) expect(parse(id), id).toBeUndefined();
  });

  it('throws rather than write an id Discord would refuse or we could not read back', () => {
    expect(() => encode('remix', 'a'.repeat(95), 'edit')).toThrow(/too long/);
    expect(() => encode('mjButton', 'has space')).toThrow(/parse back/);
    expect(() => encode('mjButton', '')).toThrow(/parse back/);
    expect(() => routeOfPrefix('zz')).toThrow(/prefix/);
  });
});
