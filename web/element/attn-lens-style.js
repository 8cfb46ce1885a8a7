// The elements' styles, adopted into each shadow root as one constructable stylesheet (no <style>
// element, no style attribute: nothing for a strict Content-Security-Policy to refuse). Inside the
// shadow root the page's CSS cannot reach them, and they cannot leak out. Theming goes through
// custom properties on the element (they inherit into the shadow root) and ::part().
export const CSS = `
:host {
  --attn-lens-accent: #ff8a00;
  --attn-lens-against: #2f7fd1;
  --attn-lens-shade: 0.85;
  --attn-lens-positive: #1b7f4b;
  --attn-lens-negative: #b3261e;
  --attn-lens-text: #1d2330;
  --attn-lens-muted: #545d6e;
  --attn-lens-background: #ffffff;
  --attn-lens-border: #d9dce3;
  --attn-lens-focus: #2f62c8;
  --attn-lens-radius: 0.5em;
  display: block;
  color: var(--attn-lens-text);
  line-height: 1.5;
  text-align: start;
  overflow-wrap: anywhere;
}
:host([hidden]) { display: none; }
:host([theme="dark"]) {
  --attn-lens-accent: #ff9d2e;
  --attn-lens-against: #6fa8ff;
  --attn-lens-shade: 0.5;
  --attn-lens-positive: #5fd39a;
  --attn-lens-negative: #ff8f85;
  --attn-lens-text: #e8eaf0;
  --attn-lens-muted: #b3bac8;
  --attn-lens-background: #1c1f26;
  --attn-lens-border: #3d4350;
  --attn-lens-focus: #8fb3ff;
}
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"]):not([theme="dark"])) {
    --attn-lens-accent: #ff9d2e;
    --attn-lens-against: #6fa8ff;
    --attn-lens-shade: 0.5;
    --attn-lens-positive: #5fd39a;
    --attn-lens-negative: #ff8f85;
    --attn-lens-text: #e8eaf0;
    --attn-lens-muted: #b3bac8;
    --attn-lens-background: #1c1f26;
    --attn-lens-border: #3d4350;
    --attn-lens-focus: #8fb3ff;
  }
}
.frame {
  box-sizing: border-box; background: var(--attn-lens-background); border: 1px solid var(--attn-lens-border);
  border-radius: var(--attn-lens-radius); padding: 0.75em; min-width: 0;
}
textarea {
  box-sizing: border-box; display: block; width: 100%; min-height: 4.5em; font: inherit; color: inherit;
  background: transparent; padding: 0.5em 0.6em; border: 1px solid var(--attn-lens-border);
  border-radius: calc(var(--attn-lens-radius) * 0.8); resize: vertical; margin: 0 0 0.5em;
}
textarea:focus-visible, .token:focus-visible, select:focus-visible, button:focus-visible {
  outline: 3px solid var(--attn-lens-focus); outline-offset: 2px;
}
.status { margin: 0 0 0.5em; font-size: 0.9em; color: var(--attn-lens-muted); }
.status.error { color: var(--attn-lens-negative); font-weight: 600; }
.status.notice { color: var(--attn-lens-negative); font-weight: 400; }
.status:empty { display: none; }
.panels { display: grid; gap: 0.75em; }
:host([compare]) .panels { grid-template-columns: repeat(auto-fill, minmax(min(100%, 18em), 1fr)); }
:host([compare]) .panel { border: 1px solid var(--attn-lens-border); border-radius: var(--attn-lens-radius); padding: 0.6em; min-width: 0; }
.panel-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 0.6em; }
.panel-head[hidden] { display: none; }
.model-name { font-size: 1em; }
.accuracy, .explanation, .legend, .detail, .ranked, .timing, .footer { font-size: 0.85em; color: var(--attn-lens-muted); }
.verdict { display: flex; align-items: center; gap: 0.6em; flex-wrap: wrap; }
.label { font-size: 1.3em; font-weight: 700; min-width: 5.5em; }
.label.positive { color: var(--attn-lens-positive); }
.label.negative { color: var(--attn-lens-negative); }
.bar {
  flex: 1; min-width: 6em; height: 0.8em; border-radius: 999px; overflow: hidden;
  background: color-mix(in srgb, var(--attn-lens-negative) 25%, transparent);
}
.bar-fill {
  display: block; height: 100%; width: calc(var(--p, 0) * 100%); background: var(--attn-lens-positive);
  transition: width 120ms ease-out;
}
.probability { font-variant-numeric: tabular-nums; color: var(--attn-lens-muted); }
.explanation, .detail, .ranked, .timing { margin: 0.3em 0; }
.timing { font-variant-numeric: tabular-nums; font-size: 0.75em; }
.controls { display: flex; gap: 0.75em; align-items: center; flex-wrap: wrap; font-size: 0.85em; }
.controls[hidden] { display: none; }
select { font: inherit; color: inherit; background: var(--attn-lens-background); border: 1px solid var(--attn-lens-border); border-radius: 0.3em; }
.highlight { white-space: pre-wrap; margin: 0.5em 0; line-height: 1.9; }
:host([compare]) .highlight { max-height: 16em; overflow: auto; }
.token {
  border-radius: 0.2em; cursor: default;
  background-color: color-mix(in srgb, var(--attn-lens-accent) calc(var(--w, 0) * var(--attn-lens-shade) * 100%), transparent);
}
.token.against {
  background-color: color-mix(in srgb, var(--attn-lens-against) calc(var(--w, 0) * var(--attn-lens-shade) * 100%), transparent);
}
.token.oov { text-decoration: underline dotted 2px; text-underline-offset: 0.2em; }
.legend { display: flex; align-items: center; gap: 0.5em; flex-wrap: wrap; }
.legend-gradient {
  display: inline-block; width: 6em; height: 0.8em; border-radius: 0.2em; border: 1px solid var(--attn-lens-border);
  background: linear-gradient(to right, transparent,
    color-mix(in srgb, var(--attn-lens-accent) calc(var(--attn-lens-shade) * 100%), transparent));
}
.legend-gradient.against {
  background: linear-gradient(to left, transparent,
    color-mix(in srgb, var(--attn-lens-against) calc(var(--attn-lens-shade) * 100%), transparent));
}
.legend-against-part { display: inline-flex; align-items: center; gap: 0.5em; }
.legend-against-part[hidden] { display: none; }
.legend-oov { margin-left: 0.5em; text-decoration: underline dotted 2px; }
.panel.empty .verdict, .panel.empty .legend, .panel.empty .ranked, .panel.empty .timing, .panel.empty .highlight,
.panel.failed .highlight, .panel.failed .legend, .panel.failed .ranked, .panel.failed .detail { display: none; }
.footer { margin: 0.5em 0 0; }
.tools { display: flex; flex-wrap: wrap; gap: 0.4em; align-items: center; margin-top: 0.6em; font-size: 0.8em; }
.tools[hidden], .link-field[hidden] { display: none; }
.tools button {
  font: inherit; color: inherit; background: transparent; border: 1px solid var(--attn-lens-border);
  border-radius: 999px; padding: 0.15em 0.7em; cursor: pointer;
}
.tools button:hover { border-color: var(--attn-lens-muted); }
.link-field { flex: 1 1 12em; font: inherit; color: inherit; background: transparent; border: 1px solid var(--attn-lens-border); border-radius: 0.3em; padding: 0.15em 0.4em; }
.fallback { white-space: pre-wrap; margin: 0; }
/* <attn-lens-translate> */
.checkbox { display: flex; gap: 0.4em; align-items: center; font-size: 0.9em; margin: 0 0 0.5em; }
.caption { margin: 0.8em 0 0.1em; font-size: 0.8em; font-weight: 600; letter-spacing: 0.04em; text-transform: uppercase; color: var(--attn-lens-muted); }
.translate-result[hidden], .caption[hidden], .translation[hidden], table[hidden] { display: none; }
.translation { font-size: 1.25em; font-weight: 600; margin: 0.1em 0; min-height: 1.5em; }
.translation.baseline { font-size: 1.05em; font-weight: 400; color: var(--attn-lens-muted); }
.table-wrap { overflow-x: auto; max-width: 100%; }
table.alignment { border-collapse: separate; border-spacing: 2px; font-size: 0.85em; font-variant-numeric: tabular-nums; }
.alignment th, .alignment td { border: none; padding: 0.2em 0.35em; text-align: center; }
.alignment thead th { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: 500; vertical-align: bottom; max-height: 9em; }
.alignment thead th.oov { text-decoration: underline dotted 2px; }
.alignment td {
  min-width: 1.6em; height: 1.6em; border-radius: 0.2em; outline: 1px solid color-mix(in srgb, var(--attn-lens-border) 60%, transparent);
  background-color: color-mix(in srgb, var(--attn-lens-accent) calc(var(--w, 0) * 90%), transparent);
}
.alignment tbody th { text-align: right; white-space: nowrap; }
.alignment tbody th button {
  font: inherit; color: inherit; background: none; border: 1px solid transparent; border-radius: 0.3em; padding: 0.05em 0.35em; cursor: pointer;
}
.alignment tbody th button:hover { border-color: var(--attn-lens-border); }
.alignment tbody th.selected button { border-color: var(--attn-lens-accent); font-weight: 700; }
.alignment td.corner { outline: none; background: none; }
.alignment .corner { font-size: 0.75em; color: var(--attn-lens-muted); text-align: left; vertical-align: bottom; }
@media (prefers-reduced-motion: reduce) {
  .bar-fill { transition: none; }
}
`;

let sheet = null;
// The stylesheet, made once and shared by every shadow root (null where constructable stylesheets
// are not supported; the elements then still work, unstyled).
export function styleSheet() {
  if (sheet === null && typeof CSSStyleSheet === 'function') {
    try {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    } catch {
      sheet = false;
    }
  }
  return sheet || null;
}
