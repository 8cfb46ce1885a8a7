// Exports of a classification for papers, slides and notes: one standalone HTML file (no script:
// its own policy forbids any, and every character of the text is escaped), an SVG and a PNG drawn
// from one layout, and a link that restores the text and the model.
import { explanationText, modelTitle, percent, topWords } from './attn-lens-view.js';

const DEFAULT_ACCENT = '#ff8a00';
const SHADE = 0.85;
const INK = '#1d2330', MUTED = '#545d6e', POSITIVE = '#1b7f4b', NEGATIVE = '#b3261e';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
// XML (SVG) refuses control characters and lone surrogates that HTML tolerates: they become U+FFFD.
const xmlText = (text) => escapeHtml(String(text).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));

// Only a colour the CSS parser would read as one colour (#rgb, #rrggbb, rgb(…)), else the default.
export function safeColour(value) {
  const colour = String(value ?? '').trim();
  return /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(colour) || /^rgba?\([\d\s.,%]+\)$/i.test(colour) ? colour : DEFAULT_ACCENT;
}

const verdict = (r) => `${r.label === 'positive' ? 'Positive' : 'Negative'}, ${percent(r.probability)} positive`;
const ranked = (r) => {
  const top = topWords(r.tokens);
  return top.length ? `Weighed most: ${top.map((t, i) => `${i + 1}. “${t.text}” ${percent(t.weight)}`).join(', ')}.` : '';
};

// The text as runs: {text, token?, strength (weight ÷ the largest)}.
function runs(result) {
  const maxWeight = result.tokens.reduce((m, t) => Math.max(m, t.weight), 0);
  const out = [];
  let cursor = 0;
  for (const token of result.tokens) {
    if (token.start > cursor) out.push({ text: result.text.slice(cursor, token.start), strength: 0 });
    out.push({ text: result.text.slice(token.start, token.end), token, strength: maxWeight > 0 ? token.weight / maxWeight : 0 });
    cursor = token.end;
  }
  if (cursor < result.text.length) out.push({ text: result.text.slice(cursor), strength: 0 });
  return out;
}

export function toHtml(results, { accent = DEFAULT_ACCENT } = {}) {
  const colour = safeColour(accent);
  const sections = results.map((r) => {
    const text = runs(r).map((run) => (run.token
      ? `<span class="t${run.token.oov ? ' oov' : ''}" style="--w:${run.strength.toFixed(3)}" title="${escapeHtml(`${run.text}: ${percent(run.token.weight, 2)}`)}">${escapeHtml(run.text)}</span>`
      : escapeHtml(run.text))).join('');
    return `<section>
<p class="model">${escapeHtml(modelTitle(r.model))}</p>
<p class="verdict ${r.label === 'positive' ? 'pos' : 'neg'}">${escapeHtml(verdict(r))}</p>
<p class="muted">${escapeHtml(explanationText(r))}</p>
<p class="text">${text}</p>
<p class="muted legend"><span class="scale"></span> weight ÷ the largest here (${escapeHtml(percent(r.tokens.reduce((m, t) => Math.max(m, t.weight), 0)))}); dotted: not in the model’s vocabulary</p>
<p class="muted">${escapeHtml(ranked(r))}</p>
</section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`attnlens: ${results.map((r) => `${modelTitle(r.model)} — ${verdict(r)}`).join('; ')}`)}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: ${INK}; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
section { border: 1px solid #d9dce3; border-radius: 0.5rem; padding: 0.75rem 1rem; margin: 0 0 1rem; }
.model { font-weight: 700; margin: 0; }
.verdict { font-size: 1.25rem; font-weight: 700; margin: 0.2rem 0; }
.pos { color: ${POSITIVE}; } .neg { color: ${NEGATIVE}; }
.muted { color: ${MUTED}; font-size: 0.85rem; margin: 0.3rem 0; }
.text { white-space: pre-wrap; line-height: 1.9; overflow-wrap: anywhere; }
.t { border-radius: 0.2em; background-color: color-mix(in srgb, ${colour} calc(var(--w) * ${SHADE * 100}%), transparent); }
.oov { text-decoration: underline dotted 2px; }
.scale { display: inline-block; width: 5rem; height: 0.7rem; border: 1px solid #d9dce3; border-radius: 0.2rem; vertical-align: middle;
  background: linear-gradient(to right, transparent, color-mix(in srgb, ${colour} ${SHADE * 100}%, transparent)); }
footer { color: ${MUTED}; font-size: 0.8rem; }
</style>
</head>
<body>
${sections}
<footer>Made with attnlens. Shading: each word's weight divided by the largest weight of its text.</footer>
</body>
</html>
`;
}

// One layout for the SVG and the PNG: rectangles and text runs, wrapped at `width` pixels with
// the page's font, measured on a canvas.
export function layout(results, { font = 'system-ui, sans-serif', width = 720 } = {}) {
  const canvas = globalThis.OffscreenCanvas ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
  const context = canvas.getContext('2d');
  const measure = (text, size, weight = 400) => {
    context.font = `${weight} ${size}px ${font}`;
    return context.measureText(text).width;
  };
  const items = [];
  const margin = 16;
  let y = margin;
  // Plain text wrapped at word boundaries.
  const paragraph = (text, size, colour, weight = 400) => {
    const lineHeight = Math.round(size * 1.45);
    let line = '';
    const flush = () => {
      y += lineHeight;
      items.push({ type: 'text', x: margin, y: y - Math.round(size * 0.35), text: line, size, colour, weight });
      line = '';
    };
    for (const word of String(text).split(/(\s+)/)) {
      if (line && measure(line + word, size, weight) > width - 2 * margin) {
        flush();
        if (/^\s+$/.test(word)) continue;
      }
      line += word;
    }
    if (line) flush();
  };
  for (const r of results) {
    paragraph(modelTitle(r.model), 15, INK, 700);
    paragraph(verdict(r), 20, r.label === 'positive' ? POSITIVE : NEGATIVE, 700);
    paragraph(explanationText(r), 12, MUTED);
    y += 6;
    // The shaded text: runs placed word by word, wrapping where the next one does not fit.
    const size = 16, lineHeight = 28;
    let x = margin;
    y += lineHeight;
    for (const run of runs(r)) {
      for (const piece of run.text.split(/(\n|\s+)/)) {
        if (!piece) continue;
        if (piece.includes('\n')) {
          x = margin;
          y += lineHeight * (piece.match(/\n/g).length);
          continue;
        }
        const w = measure(piece, size);
        const blank = /^\s+$/.test(piece);
        if (x + w > width - margin && x > margin) {
          if (blank) continue;
          x = margin;
          y += lineHeight;
        }
        if (!blank && run.strength > 0) {
          items.push({ type: 'rect', x: x - 1, y: y - size - 2, w: w + 2, h: size + 8, opacity: run.strength * SHADE });
        }
        if (!blank) items.push({ type: 'text', x, y, text: piece, size, colour: INK, weight: 400, oov: Boolean(run.token?.oov) });
        x += w;
      }
    }
    y += 10;
    paragraph(ranked(r), 12, MUTED);
    y += 14;
  }
  paragraph('Made with attnlens. Shading: each word’s weight ÷ the largest weight of its text.', 11, MUTED);
  return { width, height: Math.ceil(y + margin), items, font };
}

export function toSvg(results, { accent = DEFAULT_ACCENT, font } = {}) {
  const { width, height, items, font: family } = layout(results, { font });
  const colour = safeColour(accent);
  const body = items.map((item) => (item.type === 'rect'
    ? `<rect x="${item.x.toFixed(1)}" y="${item.y.toFixed(1)}" width="${item.w.toFixed(1)}" height="${item.h}" rx="3" fill="${colour}" fill-opacity="${item.opacity.toFixed(3)}"/>`
    : `<text x="${item.x.toFixed(1)}" y="${item.y.toFixed(1)}" font-size="${item.size}" font-weight="${item.weight}" fill="${item.colour}"${item.oov ? ' text-decoration="underline"' : ''}>${xmlText(item.text)}</text>`)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${xmlText(family)}">
<title>${xmlText(results.map((r) => `${modelTitle(r.model)}: ${verdict(r)}`).join('; '))}</title>
<rect width="100%" height="100%" fill="#ffffff"/>
${body}
</svg>
`;
}

// The same layout painted on a canvas (no image decoding, so no img-src needed): a PNG Blob.
export async function toPng(results, { accent = DEFAULT_ACCENT, font, scale = 2 } = {}) {
  const { width, height, items, font: family } = layout(results, { font });
  const canvas = document.createElement('canvas');
  canvas.width = width * scale;
  canvas.height = height * scale;
  const context = canvas.getContext('2d');
  context.scale(scale, scale);
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  for (const item of items) {
    if (item.type === 'rect') {
      context.globalAlpha = item.opacity;
      context.fillStyle = safeColour(accent);
      context.beginPath();
      if (context.roundRect) context.roundRect(item.x, item.y, item.w, item.h, 3);
      else context.rect(item.x, item.y, item.w, item.h);
      context.fill();
      context.globalAlpha = 1;
    } else {
      context.font = `${item.weight} ${item.size}px ${family}`;
      context.fillStyle = item.colour;
      context.fillText(item.text, item.x, item.y);
      if (item.oov) context.fillRect(item.x, item.y + 3, context.measureText(item.text).width, 1);
    }
  }
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The PNG could not be made'))), 'image/png'));
}

// Starts a download of `blob` as `name` (an <a download> with a blob: URL).
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A link that restores the text and the model: base#model=…&text=… (embed.html and the demo page
// read it). Long texts are kept whole: a fragment is never sent to a server.
export function shareLink(base, { model, text, compare, explanation }) {  // base: an absolute URL
  const params = new URLSearchParams();
  if (compare) params.set('compare', compare);
  else params.set('model', model);
  if (explanation && explanation !== 'auto') params.set('explanation', explanation);
  params.set('text', text);
  const url = new URL(base);
  url.hash = params.toString();
  return url.href;
}

// A file name from the model and the first words of the text.
export function fileName(result, extension) {
  const words = result.text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim().split(' ').slice(0, 6).join('-');
  return `attnlens-${result.model.replace(/[^a-z0-9-]+/gi, '')}${words ? `-${words}` : ''}.${extension}`.slice(0, 120);
}
