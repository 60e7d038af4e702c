// The mask editor page's behaviour (served as /editor/assets/editor.js; no framework, no inline script).
// What is pure — pointer → image pixel, shapes → mask — lives in maskGeometry (TypeScript, unit-tested); this file
// only wires the DOM to it: pointer events (mouse, pen and touch alike), the tool buttons, undo/clear, and the submit.
/* global document, window, requestAnimationFrame */
import { brushDiameter, countSelected, isMeaningful, maskToRgba, overlayRgba, paint, rasterize, rectFromCorners, toImagePoint } from './maskGeometry.js';

const root = document.getElementById('editor');
if (root) start(root);

function start(root) {
  const size = { width: Number(root.dataset.width), height: Number(root.dataset.height) };
  const token = root.dataset.token;
  const say = (name) => root.dataset[`say${name[0].toUpperCase()}${name.slice(1)}`] ?? '';
  const stage = document.getElementById('stage');
  const picture = document.getElementById('picture');
  const overlay = document.getElementById('overlay');
  const status = document.getElementById('status');
  const form = document.getElementById('send');
  const submit = document.getElementById('submit');
  const prompt = document.getElementById('prompt');
  const brushSize = document.getElementById('brush-size');
  const toolButtons = [...document.querySelectorAll('button[data-tool]')];
  const g = overlay.getContext('2d');

  // the stage keeps the picture's aspect ratio and fits the window's height as well as its width
  stage.style.aspectRatio = `${size.width} / ${size.height}`;
  stage.style.maxWidth = `min(100%, calc((100vh - 20rem) * ${size.width / size.height}))`;

  /** @type {import('./maskGeometry.js').Shape[]} */
  const shapes = [];
  let mask = new Uint8Array(size.width * size.height);
  const layer = g.createImageData(size.width, size.height);
  const tint = window.matchMedia('(prefers-color-scheme: dark)').matches ? [64, 200, 255, 150] : [255, 40, 120, 140];
  let tool = 'rect';
  let drag = null;
  let frame = 0;
  let done = false;

  function setTool(name) {
    tool = name;
    for (const b of toolButtons) b.setAttribute('aria-pressed', String(b.dataset.tool === name));
    overlay.dataset.tool = name;
  }

  function redraw() {
    frame = 0;
    overlayRgba(mask, tint, layer.data);
    g.putImageData(layer, 0, 0);
    if (!drag || (drag.kind !== 'rect' && drag.kind !== 'lasso')) return;
    // the outline of the shape being drawn
    g.save();
    g.lineWidth = Math.max(1, size.width / 300);
    g.strokeStyle = '#ffffff';
    g.setLineDash([g.lineWidth * 4, g.lineWidth * 3]);
    g.beginPath();
    if (drag.kind === 'rect') {
      const r = rectFromCorners(drag.points[0], drag.points[drag.points.length - 1]);
      g.rect(r.x, r.y, r.width, r.height);
    } else {
      drag.points.forEach((p, i) => (i === 0 ? g.moveTo(p.x, p.y) : g.lineTo(p.x, p.y)));
      g.closePath();
    }
    g.stroke();
    g.strokeStyle = '#000000';
    g.lineDashOffset = g.lineWidth * 4;
    g.stroke();
    g.restore();
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(redraw);
  }

  const at = (e) => toImagePoint(e.clientX, e.clientY, overlay.getBoundingClientRect(), size);

  overlay.addEventListener('pointerdown', (e) => {
    if (done || drag || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    overlay.setPointerCapture(e.pointerId);
    const p = at(e);
    drag = { id: e.pointerId, kind: tool, points: [p], size: brushDiameter(Number(brushSize.value), size) };
    if (tool === 'brush' || tool === 'eraser') paint(mask, size, { kind: tool, points: [p], size: drag.size });
    schedule();
  });

  overlay.addEventListener('pointermove', (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const events = typeof e.getCoalescedEvents === 'function' && e.getCoalescedEvents().length > 0 ? e.getCoalescedEvents() : [e];
    for (const ev of events) {
      const p = at(ev);
      const last = drag.points[drag.points.length - 1];
      if (Math.abs(p.x - last.x) < 0.5 && Math.abs(p.y - last.y) < 0.5) continue;
      drag.points.push(p);
      // a brush stroke is painted as it goes, one segment at a time
      if (drag.kind === 'brush' || drag.kind === 'eraser') paint(mask, size, { kind: drag.kind, points: [last, p], size: drag.size });
    }
    schedule();
  });

  function finish(e, keep) {
    if (!drag || e.pointerId !== drag.id) return;
    const d = drag;
    drag = null;
    if (keep) {
      const end = at(e);
      if (d.kind === 'rect' || d.kind === 'lasso') d.points.push(end);
      const shape =
        d.kind === 'rect'
          ? rectFromCorners(d.points[0], end)
          : d.kind === 'lasso'
            ? { kind: 'lasso', points: d.points }
            : { kind: d.kind, points: d.points, size: d.size };
      if (isMeaningful(shape)) shapes.push(shape);
    }
    mask = rasterize(shapes, size, mask);
    schedule();
    if (countSelected(mask) > 0 && status.dataset.kind === 'error') showStatus('', '');
  }
  overlay.addEventListener('pointerup', (e) => finish(e, true));
  overlay.addEventListener('pointercancel', (e) => finish(e, false));

  for (const b of toolButtons) b.addEventListener('click', () => setTool(b.dataset.tool));
  document.getElementById('undo').addEventListener('click', undo);
  document.getElementById('clear').addEventListener('click', () => {
    shapes.length = 0;
    mask = rasterize(shapes, size, mask);
    schedule();
  });
  function undo() {
    shapes.pop();
    mask = rasterize(shapes, size, mask);
    schedule();
  }

  // keyboard: every control is a button; these letters are shortcuts (not while typing the prompt)
  document.addEventListener('keydown', (e) => {
    if (done || e.target === prompt || e.altKey) return;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
      e.preventDefault();
      undo();
      return;
    }
    if (e.ctrlKey || e.metaKey) return;
    const byKey = { r: 'rect', l: 'lasso', b: 'brush', e: 'eraser' }[e.key.toLowerCase()];
    if (byKey) setTool(byKey);
  });

  picture.addEventListener('error', () => showStatus(say('imageFailed'), 'error'));

  function showStatus(text, kind) {
    status.textContent = text;
    status.dataset.kind = kind;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (done || submit.disabled) return;
    if (countSelected(mask) === 0) {
      showStatus(say('emptyMask'), 'error');
      return;
    }
    void send();
  });

  async function send() {
    submit.disabled = true;
    showStatus(say('sending'), 'busy');
    try {
      const png = await maskPng();
      const body = JSON.stringify({ mask: toBase64(png), ...(prompt ? { prompt: prompt.value } : {}) });
      const res = await fetch(`/editor/${encodeURIComponent(token)}/submit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        credentials: 'same-origin',
      });
      const out = await res.json().catch(() => ({ ok: false, message: say('badRequest') }));
      if (out.ok) {
        done = true;
        root.classList.add('done');
        for (const el of root.querySelectorAll('button, input, textarea')) el.disabled = true;
        showStatus(out.message, 'sent');
        return;
      }
      showStatus(out.message || say('badRequest'), 'error');
      // a link that is spent, expired or someone else's cannot be tried again
      if (res.status === 403 || res.status === 410 || res.status === 404) done = true;
    } catch {
      showStatus(say('network'), 'error');
    } finally {
      if (!done) submit.disabled = false;
    }
  }

  /** The mask as a PNG of exactly the image's size: opaque white (selected) and black pixels, nothing smoothed. */
  function maskPng() {
    const c = document.createElement('canvas');
    c.width = size.width;
    c.height = size.height;
    const cg = c.getContext('2d');
    const img = cg.createImageData(size.width, size.height);
    maskToRgba(mask, img.data);
    cg.putImageData(img, 0, 0);
    return new Promise((resolve, reject) =>
      c.toBlob((blob) => (blob ? blob.arrayBuffer().then((b) => resolve(new Uint8Array(b)), reject) : reject(new Error('no PNG'))), 'image/png'),
    );
  }

  function toBase64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return window.btoa(s);
  }

  setTool('rect');
  schedule();
  root.dataset.ready = 'true';
}
