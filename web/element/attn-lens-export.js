// Exports of a classification or a translation for papers, slides and notes: one standalone HTML
// file (no script: its own policy forbids any, and every character of the text is escaped), and an
// SVG and a PNG drawn from one layout.
import { explanationText, formatWeight, modelTitle, percent, topWords } from './attn-lens-view.js';

const DEFAULT_ACCENT = '#ff8a00';
const DEFAULT_AGAINST = '#2f7fd1';  // signed scores: evidence against the prediction
const SHADE = 0.85;
const INK = '#1d2330', MUTED = '#545d6e', POSITIVE = '#1b7f4b', NEGATIVE = '#b3261e', BORDER = '#d9dce3';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
// XML (SVG) refuses control characters and lone surrogates that HTML tolerates: they become U+FFFD.
const xmlText = (text) => escapeHtml(String(text).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));

// Only a colour the CSS parser would read as one colour (#rgb, #rrggbb, rgb(…)), else the default.
export function safeColour(value, fallback = DEFAULT_ACCENT) {
  const colour = String(value ?? '').trim();
  return /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(colour) || /^rgba?\([\d\s.,%]+\)$/i.test(colour) ? colour : fallback;
}
// What the shading of a result means, for the exports' footers.
const shading = (results) => (results.some((r) => r.signed)
  ? 'Shading: each word’s weight (or |score|) divided by the largest of its text; signed scores in two colours, for and against the prediction.'
  : 'Shading: each word’s weight divided by the largest weight of its text.');

const verdict = (r) => `${r.label === 'positive' ? 'Positive' : 'Negative'}, ${percent(r.probability)} positive`;
const ranked = (r) => {
  const top = topWords(r.tokens);
  return top.length ? `${r.signed ? 'Most evidence for the prediction' : 'Weighed most'}: `
    + `${top.map((t, i) => `${i + 1}. “${t.text}” ${formatWeight(r, t.weight)}`).join(', ')}.` : '';
};
const largest = (r) => r.tokens.reduce((m, t) => Math.max(m, Math.abs(t.weight)), 0);

// The text as runs: {text, token?, strength (|weight| ÷ the largest), against (a signed score below 0)}.
function runs(result) {
  const maxWeight = largest(result);
  const out = [];
  let cursor = 0;
  for (const token of result.tokens) {
    if (token.start > cursor) out.push({ text: result.text.slice(cursor, token.start), strength: 0 });
    out.push({ text: result.text.slice(token.start, token.end), token, strength: maxWeight > 0 ? Math.abs(token.weight) / maxWeight : 0,
      against: Boolean(result.signed) && token.weight < 0 });
    cursor = token.end;
  }
  if (cursor < result.text.length) out.push({ text: result.text.slice(cursor), strength: 0 });
  return out;
}

// One standalone HTML file: its own policy allows no script, only the inline style given; the
// title is escaped here, `css` and `body` are already-escaped markup.
function standalone(title, css, body, width) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: ${INK}; max-width: ${width}; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
${css}</style>
</head>
<body>
${body}</body>
</html>
`;
}

export function toHtml(results, { accent = DEFAULT_ACCENT, against = DEFAULT_AGAINST } = {}) {
  const colour = safeColour(accent);
  const second = safeColour(against, DEFAULT_AGAINST);
  const sections = results.map((r) => {
    const text = runs(r).map((run) => (run.token
      ? `<span class="t${run.token.oov ? ' oov' : ''}${run.against ? ' against' : ''}" style="--w:${run.strength.toFixed(3)}" `
        + `title="${escapeHtml(`${run.text}: ${r.scale === 'score' ? run.token.weight.toPrecision(3) : percent(run.token.weight, 2)}`)}">${escapeHtml(run.text)}</span>`
      : escapeHtml(run.text))).join('');
    return `<section>
<p class="model">${escapeHtml(modelTitle(r.model))}</p>
<p class="verdict ${r.label === 'positive' ? 'pos' : 'neg'}">${escapeHtml(verdict(r))}</p>
<p class="muted">${escapeHtml(explanationText(r))}</p>
<p class="text">${text}</p>
<p class="muted legend">${r.signed ? '<span class="scale against"></span> against · for ' : ''}<span class="scale"></span> ${r.signed ? '|score|' : 'weight'} ÷ the largest here (${escapeHtml(formatWeight(r, largest(r)))}); dotted: not in the model’s vocabulary</p>
<p class="muted">${escapeHtml(ranked(r))}</p>
</section>`;
  }).join('\n');
  return standalone(`attnlens: ${results.map((r) => `${modelTitle(r.model)} — ${verdict(r)}`).join('; ')}`,
    `section { border: 1px solid #d9dce3; border-radius: 0.5rem; padding: 0.75rem 1rem; margin: 0 0 1rem; }
.model { font-weight: 700; margin: 0; }
.verdict { font-size: 1.25rem; font-weight: 700; margin: 0.2rem 0; }
.pos { color: ${POSITIVE}; } .neg { color: ${NEGATIVE}; }
.muted { color: ${MUTED}; font-size: 0.85rem; margin: 0.3rem 0; }
.text { white-space: pre-wrap; line-height: 1.9; overflow-wrap: anywhere; }
.t { border-radius: 0.2em; background-color: color-mix(in srgb, ${colour} calc(var(--w) * ${SHADE * 100}%), transparent); }
.t.against { background-color: color-mix(in srgb, ${second} calc(var(--w) * ${SHADE * 100}%), transparent); }
.oov { text-decoration: underline dotted 2px; }
.scale.against { background: linear-gradient(to left, transparent, color-mix(in srgb, ${second} ${SHADE * 100}%, transparent)); }
.scale { display: inline-block; width: 5rem; height: 0.7rem; border: 1px solid #d9dce3; border-radius: 0.2rem; vertical-align: middle;
  background: linear-gradient(to right, transparent, color-mix(in srgb, ${colour} ${SHADE * 100}%, transparent)); }
footer { color: ${MUTED}; font-size: 0.8rem; }
`, `${sections}
<footer>Made with attnlens. ${escapeHtml(shading(results))}</footer>
`, '44rem');
}

// A drawing being laid out for the SVG and the PNG: rectangles and text runs, wrapped at `width`
// pixels with the page's font, measured on a canvas.
const MARGIN = 16;
class Sheet {
  constructor({ font = 'system-ui, sans-serif', width = 720 } = {}) {
    const canvas = globalThis.OffscreenCanvas ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    this.context = canvas.getContext('2d');
    this.font = font;
    this.width = width;
    this.items = [];
    this.y = MARGIN;
  }

  measure(text, size, weight = 400) {
    this.context.font = `${weight} ${size}px ${this.font}`;
    return this.context.measureText(text).width;
  }

  // Plain text wrapped at word boundaries.
  paragraph(text, size, colour, weight = 400) {
    const lineHeight = Math.round(size * 1.45);
    let line = '';
    const flush = () => {
      this.y += lineHeight;
      this.items.push({ type: 'text', x: MARGIN, y: this.y - Math.round(size * 0.35), text: line, size, colour, weight });
      line = '';
    };
    for (const word of String(text).split(/(\s+)/)) {
      if (line && this.measure(line + word, size, weight) > this.width - 2 * MARGIN) {
        flush();
        if (/^\s+$/.test(word)) continue;
      }
      line += word;
    }
    if (line) flush();
  }

  done() { return { width: Math.ceil(this.width), height: Math.ceil(this.y + MARGIN), items: this.items, font: this.font }; }
}

// Classifications: each model's verdict, its explanation, the shaded text and the ranked words.
export function layout(results, options = {}) {
  const sheet = new Sheet(options);
  const { items } = sheet;
  for (const r of results) {
    sheet.paragraph(modelTitle(r.model), 15, INK, 700);
    sheet.paragraph(verdict(r), 20, r.label === 'positive' ? POSITIVE : NEGATIVE, 700);
    sheet.paragraph(explanationText(r), 12, MUTED);
    sheet.y += 6;
    // The shaded text: runs placed word by word, wrapping where the next one does not fit.
    const size = 16, lineHeight = 28;
    let x = MARGIN;
    sheet.y += lineHeight;
    for (const run of runs(r)) {
      for (const piece of run.text.split(/(\n|\s+)/)) {
        if (!piece) continue;
        if (piece.includes('\n')) {
          x = MARGIN;
          sheet.y += lineHeight * (piece.match(/\n/g).length);
          continue;
        }
        const w = sheet.measure(piece, size);
        const blank = /^\s+$/.test(piece);
        if (x + w > sheet.width - MARGIN && x > MARGIN) {
          if (blank) continue;
          x = MARGIN;
          sheet.y += lineHeight;
        }
        if (!blank && run.strength > 0) {
          items.push({ type: 'rect', x: x - 1, y: sheet.y - size - 2, w: w + 2, h: size + 8, opacity: run.strength * SHADE,
            ...(run.against ? { against: true } : {}) });
        }
        if (!blank) items.push({ type: 'text', x, y: sheet.y, text: piece, size, colour: INK, weight: 400, oov: Boolean(run.token?.oov) });
        x += w;
      }
    }
    sheet.y += 10;
    sheet.paragraph(ranked(r), 12, MUTED);
    sheet.y += 14;
  }
  sheet.paragraph(`Made with attnlens. ${shading(results)}`, 11, MUTED);
  return sheet.done();
}

export function toSvg(results, { accent = DEFAULT_ACCENT, against = DEFAULT_AGAINST, font } = {}) {
  return svgOf(layout(results, { font }), results.map((r) => `${modelTitle(r.model)}: ${verdict(r)}`).join('; '), accent, against);
}

export function toPng(results, { accent = DEFAULT_ACCENT, against = DEFAULT_AGAINST, font, scale = 2 } = {}) {
  return pngOf(layout(results, { font }), accent, scale, against);
}

// A layout ({width, height, font, items}) as SVG. Items: rect (shaded at `opacity` by the accent, or by the second colour if `against`),
// box (an outline), text (anchor start | middle | end, rotate in degrees about its anchor point).
function svgOf({ width, height, items, font }, title, accent, against = DEFAULT_AGAINST) {
  const colour = safeColour(accent);
  const second = safeColour(against, DEFAULT_AGAINST);
  const body = items.map((item) => {
    if (item.type === 'rect') {
      return `<rect x="${item.x.toFixed(1)}" y="${item.y.toFixed(1)}" width="${item.w.toFixed(1)}" height="${item.h.toFixed(1)}" rx="3" fill="${item.against ? second : colour}" fill-opacity="${item.opacity.toFixed(3)}"/>`;
    }
    if (item.type === 'box') {
      return `<rect x="${item.x.toFixed(1)}" y="${item.y.toFixed(1)}" width="${item.w.toFixed(1)}" height="${item.h.toFixed(1)}" fill="none" stroke="${BORDER}"/>`;
    }
    const anchor = item.anchor && item.anchor !== 'start' ? ` text-anchor="${item.anchor}"` : '';
    const rotate = item.rotate ? ` transform="rotate(${item.rotate} ${item.x.toFixed(1)} ${item.y.toFixed(1)})"` : '';
    return `<text x="${item.x.toFixed(1)}" y="${item.y.toFixed(1)}" font-size="${item.size}" font-weight="${item.weight}" fill="${item.colour}"${anchor}${rotate}${item.oov ? ' text-decoration="underline"' : ''}>${xmlText(item.text)}</text>`;
  }).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${xmlText(font)}">
<title>${xmlText(title)}</title>
<rect width="100%" height="100%" fill="#ffffff"/>
${body}
</svg>
`;
}

// The same layout painted on a canvas (no image decoding, so no img-src needed): a PNG Blob.
async function pngOf({ width, height, items, font }, accent, scale, against = DEFAULT_AGAINST) {
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
      context.fillStyle = item.against ? safeColour(against, DEFAULT_AGAINST) : safeColour(accent);
      context.beginPath();
      if (context.roundRect) context.roundRect(item.x, item.y, item.w, item.h, 3);
      else context.rect(item.x, item.y, item.w, item.h);
      context.fill();
      context.globalAlpha = 1;
    } else if (item.type === 'box') {
      context.strokeStyle = BORDER;
      context.lineWidth = 1;
      context.strokeRect(item.x, item.y, item.w, item.h);
    } else {
      context.save();
      context.font = `${item.weight} ${item.size}px ${font}`;
      context.fillStyle = item.colour;
      context.textAlign = item.anchor === 'middle' ? 'center' : item.anchor === 'end' ? 'right' : 'left';
      context.translate(item.x, item.y);
      if (item.rotate) context.rotate((item.rotate * Math.PI) / 180);
      context.fillText(item.text, 0, 0);
      if (item.oov) context.fillRect(0, 3, context.measureText(item.text).width, 1);
      context.restore();
    }
  }
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The PNG could not be made'))), 'image/png'));
}

// Translations: the English sentence, the French (and the baseline's), and the alignment heatmap
// (rows French tokens, columns English tokens; each cell a weight, its row summing to 1), with the
// numbers written in the cells so the figure does not depend on colour. `about`: what the element
// says of its translators (description, BLEU).
const decoding = (t) => (t.beam > 1 ? `beam search (width ${t.beam})` : 'greedy decoding');
const translationTitle = (t) => `attnlens: “${t.text}” → “${t.translation}”`;

export function translationToHtml(t, { accent = DEFAULT_ACCENT, heading = 'French, with attention', about = '' } = {}) {
  const colour = safeColour(accent);
  const header = t.sourceTokens.map((s) => `<th scope="col"${s.oov ? ' class="oov"' : ''}>${escapeHtml(s.text)}</th>`).join('');
  const rows = t.attention.map((row, i) => `<tr><th scope="row">${escapeHtml(t.targetTokens[i] ?? '')}</th>${row.map((w, j) =>
    `<td style="--w:${Number(w).toFixed(3)}" title="${escapeHtml(`${t.targetTokens[i]} → ${t.sourceTokens[j]?.text}: ${Number(w).toFixed(3)}`)}">${Number(w).toFixed(2)}</td>`).join('')}</tr>`).join('\n');
  return standalone(translationTitle(t),
    `.caption { color: ${MUTED}; font-size: 0.85rem; margin: 0.8rem 0 0.1rem; }
.sentence { font-size: 1.15rem; margin: 0; overflow-wrap: anywhere; }
.french { font-weight: 700; }
.muted { color: ${MUTED}; font-size: 0.85rem; }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.8rem; margin: 0.5rem 0; }
th { font-weight: 600; padding: 0.2rem 0.35rem; }
thead th { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; vertical-align: bottom; }
tbody th { text-align: right; }
td { min-width: 2.2rem; height: 1.8rem; text-align: center; border: 1px solid ${BORDER}; font-variant-numeric: tabular-nums;
  background-color: color-mix(in srgb, ${colour} calc(var(--w) * ${SHADE * 100}%), transparent); }
.oov { text-decoration: underline dotted 2px; }
.corner { border: none; background: none; }
footer { color: ${MUTED}; font-size: 0.8rem; margin-top: 1rem; }
`, `<p class="caption">English</p>
<p class="sentence" lang="en">${escapeHtml(t.text)}</p>
<p class="caption">${escapeHtml(heading)}, ${escapeHtml(decoding(t))}</p>
<p class="sentence french" lang="fr">${escapeHtml(t.translation || '—')}</p>
${t.baseline === null || t.baseline === undefined ? '' : `<p class="caption">French, without attention (one fixed vector)</p>
<p class="sentence" lang="fr">${escapeHtml(t.baseline || '—')}</p>`}
<p class="caption">Alignment: what each French word attended to (rows sum to 1)</p>
<div class="wrap"><table>
<thead><tr><td class="corner"></td>${header}</tr></thead>
<tbody>
${rows}
</tbody>
</table></div>
${t.sourceTokens.some((s) => s.oov) ? '<p class="muted">Dotted: not in the translator’s English vocabulary (read as &lt;unk&gt;).</p>' : ''}
<footer>${escapeHtml(about ? `${about} ` : '')}Made with attnlens.</footer>
`, '52rem');
}

export function translationLayout(t, { font, heading = 'French, with attention', about = '' } = {}) {
  const cell = 30, labelSize = 13;
  const probe = new Sheet({ font });
  const rowLabels = Math.max(0, ...t.targetTokens.map((w) => probe.measure(w, labelSize, 600))) + 10;
  const columnLabels = Math.max(0, ...t.sourceTokens.map((s) => probe.measure(s.text, labelSize, 600)));
  const diagonal = Math.SQRT1_2;
  const gridWidth = MARGIN + rowLabels + t.sourceTokens.length * cell + columnLabels * diagonal + MARGIN;
  const sheet = new Sheet({ font, width: Math.max(720, Math.ceil(gridWidth)) });
  const { items } = sheet;
  sheet.paragraph('English', 12, MUTED);
  sheet.paragraph(t.text, 17, INK);
  sheet.paragraph(`${heading}, ${decoding(t)}`, 12, MUTED);
  sheet.paragraph(t.translation || '—', 17, INK, 700);
  if (t.baseline !== null && t.baseline !== undefined) {
    sheet.paragraph('French, without attention (one fixed vector)', 12, MUTED);
    sheet.paragraph(t.baseline || '—', 17, INK);
  }
  sheet.y += 6;
  sheet.paragraph('Alignment: what each French word attended to (rows sum to 1)', 12, MUTED);
  // The English tokens above the columns, at 45°; the French ones before the rows.
  const left = MARGIN + rowLabels;
  const top = sheet.y + 8 + columnLabels * diagonal + 6;
  t.sourceTokens.forEach((s, j) => {
    items.push({ type: 'text', x: left + j * cell + cell / 2, y: top - 6, text: s.text, size: labelSize, colour: INK, weight: 600, rotate: -45, oov: s.oov });
  });
  t.attention.forEach((row, i) => {
    const y = top + i * cell;
    items.push({ type: 'text', x: left - 8, y: y + cell / 2 + labelSize * 0.35, text: t.targetTokens[i] ?? '', size: labelSize, colour: INK, weight: 600, anchor: 'end' });
    row.forEach((weight, j) => {
      const x = left + j * cell;
      const w = Number(weight);
      if (w > 0) items.push({ type: 'rect', x: x + 1, y: y + 1, w: cell - 2, h: cell - 2, opacity: Math.min(1, w) * SHADE });
      items.push({ type: 'box', x, y, w: cell, h: cell });
      items.push({ type: 'text', x: x + cell / 2, y: y + cell / 2 + 3.5, text: w.toFixed(2).replace(/^0\./, '.'), size: 10, colour: INK, weight: 400, anchor: 'middle' });
    });
  });
  sheet.y = top + t.attention.length * cell + 8;
  if (t.sourceTokens.some((s) => s.oov)) sheet.paragraph('Underlined: not in the translator’s English vocabulary (read as <unk>).', 11, MUTED);
  sheet.paragraph(`${about ? `${about} ` : ''}Made with attnlens.`, 11, MUTED);
  return sheet.done();
}

export function translationToSvg(t, { accent = DEFAULT_ACCENT, ...options } = {}) {
  return svgOf(translationLayout(t, options), translationTitle(t), accent);
}

export function translationToPng(t, { accent = DEFAULT_ACCENT, scale = 2, ...options } = {}) {
  return pngOf(translationLayout(t, options), accent, scale);
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

// A file name from the model and the first words of the text.
export function fileName(result, extension) {
  const words = result.text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim().split(' ').slice(0, 6).join('-');
  return `attnlens-${result.model.replace(/[^a-z0-9-]+/gi, '')}${words ? `-${words}` : ''}.${extension}`.slice(0, 120);
}
