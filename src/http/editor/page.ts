/**
 * The mask editor's HTML: the editor itself and the short pages that say why a link does not work. Everything the
 * page shows is escaped text; the behaviour is one static ES module (assets/editor.js), so the Content-Security-Policy
 * allows no inline script or style at all.
 */

export const EDITOR_PATH = '/editor/';
export const ASSET_PATH = '/editor/assets/';

/** No inline script or style, nothing from another origin, no framing, no form posts elsewhere. */
export const EDITOR_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every editor page and answer carries (the token is in the URL: no referrer, no caching). */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': EDITOR_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A translator for one locale, as the page needs it. */
export type PageText = (key: string) => string;

export interface EditorPageData {
  token: string;
  lang: string;
  flow: string;
  width: number;
  height: number;
  /** absent: no prompt box (the inpaint flows take none) */
  prompt?: string | undefined;
  maxPromptLength: number;
}

function shell(lang: string, title: string, body: string, withScript: boolean): string {
  return `<!doctype html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${ASSET_PATH}editor.css">
${withScript ? `<script type="module" src="${ASSET_PATH}editor.js"></script>\n` : ''}</head>
<body>
${body}
</body>
</html>
`;
}

/** The editor: the picture with its drawing layer, the tools, the prompt (Vary (Region)) and Submit. */
export function editorPage(d: EditorPageData, t: PageText): string {
  const tool = (name: string, pressed: boolean, key: string) =>
    `<button type="button" class="tool" data-tool="${name}" aria-pressed="${pressed}" aria-keyshortcuts="${key}" title="${escapeHtml(t(`editor.page.${name}`))} (${key.toUpperCase()})">${escapeHtml(t(`editor.page.${name}`))}</button>`;
  // strings the script shows later travel as data attributes (no inline script)
  const say = ['sending', 'emptyMask', 'network', 'imageFailed', 'busy', 'tooMany', 'tooLarge', 'badRequest']
    .map((k) => ` data-say-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${escapeHtml(t(`editor.page.${k}`))}"`)
    .join('');
  const title = t(`editor.page.title.${d.flow}`);
  const prompt =
    d.prompt === undefined
      ? ''
      : `<label class="prompt" for="prompt">${escapeHtml(t('editor.page.prompt'))}</label>
<textarea id="prompt" name="prompt" rows="3" maxlength="${d.maxPromptLength}" spellcheck="false">${escapeHtml(d.prompt)}</textarea>`;
  const body = `<main id="editor" data-token="${escapeHtml(d.token)}" data-width="${d.width}" data-height="${d.height}"${say}>
<h1>${escapeHtml(title)}</h1>
<p class="intro">${escapeHtml(t('editor.page.intro'))}</p>
<div class="toolbar" role="toolbar" aria-label="${escapeHtml(t('editor.page.tools'))}">
${tool('rect', true, 'r')}
${tool('lasso', false, 'l')}
${tool('brush', false, 'b')}
${tool('eraser', false, 'e')}
<label class="size">${escapeHtml(t('editor.page.brushSize'))} <input type="range" id="brush-size" min="1" max="100" value="12"></label>
<button type="button" id="undo" aria-keyshortcuts="Control+Z">${escapeHtml(t('editor.page.undo'))}</button>
<button type="button" id="clear">${escapeHtml(t('editor.page.clear'))}</button>
</div>
<div class="stage" id="stage">
<img id="picture" src="${EDITOR_PATH}${escapeHtml(d.token)}/image" width="${d.width}" height="${d.height}" alt="${escapeHtml(t('editor.page.imageAlt'))}" draggable="false">
<canvas id="overlay" width="${d.width}" height="${d.height}"></canvas>
</div>
<form id="send" class="send">
${prompt}
<button type="submit" id="submit" class="primary">${escapeHtml(t('editor.page.submit'))}</button>
<p id="status" role="status" aria-live="polite"></p>
</form>
</main>`;
  return shell(d.lang, `${title} · mj-relay`, body, true);
}

/** Why a link does not work: unknown, expired, already used, or opened first by another browser. */
export function notUsablePage(lang: string, why: 'invalid' | 'expired' | 'used' | 'foreign', t: PageText): string {
  const title = t(`editor.page.${why}.title`);
  const body = `<main class="notice" id="notice" data-why="${why}">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(t(`editor.page.${why}.body`))}</p>
</main>`;
  return shell(lang, `${title} · mj-relay`, body, false);
}
