// <attn-lens-translate>: an English → French translator with its attention alignment, for a lesson
// on Bahdanau or Luong attention.
//
//   <attn-lens-translate>She is reading a book in the garden.</attn-lens-translate>
//
// Attributes (each also a property): model (default translate-eng-fra, or the URL of an attnlens
// translator file), baseline (a translator shown beside it without its alignment, default the
// shipped no-attention one; "none" for nothing), text, mode (edit, figure), beam (1: greedy, the
// default; 5: beam search of width 5), theme, loading, tools, link — as on <attn-lens>. Events: attn-lens-ready,
// attn-lens-result (detail: {text, model, translation, sourceTokens, targetTokens, attention,
// baseline, engineMs}), attn-lens-error. The heatmap's rows are French tokens, its columns English
// ones; choosing a French word shades the English words it attended to. The tools save the
// sentence pair and the heatmap as HTML, SVG or PNG, and copy a link that restores it
// (embed.html#kind=translate&text=…).
import { engine, Latest } from './attn-lens-client.js';
import { LensElement } from './attn-lens-base.js';
import { announce, el } from './attn-lens-view.js';
import { fileName, translationToHtml, translationToPng, translationToSvg } from './attn-lens-export.js';
import { EMBED_PAGE, Toolbar } from './attn-lens-tools.js';

const KINDS = { additive: 'additive, Bahdanau et al.', dot: 'dot product, Luong et al.', general: 'general, Luong et al.' };

function bleuText(info) {
  if (!info || info.testBleu == null) return 'test BLEU not recorded';
  const beam = info.testBleuBeam == null ? '' : `, ${info.testBleuBeam.toFixed(1)} with beam search`;
  return `Tatoeba test BLEU ${info.testBleu.toFixed(1)} greedy${beam}`;
}

export class AttnLensTranslateElement extends LensElement {
  static reflected = {
    model: 'translate-eng-fra', baseline: 'translate-eng-fra-noattn', mode: 'edit', beam: '1', theme: 'auto', loading: 'lazy',
    tools: 'all', link: EMBED_PAGE,
  };

  #view = {};
  #beamBox = null;
  #held = {};           // role ('main' | 'baseline') → {name, key, info} once open
  #opening = null;
  #lane = new Latest((text, beam) => this.#translateBoth(text, beam));
  #current = null;      // {text, result}
  #selectedRow = -1;
  #result = null;
  #generation = 0;      // counts open()/release(): an answer from an older one is dropped
  #waiters = [];        // translate() calls waiting for their result
  #tools = new Toolbar(this, { linkLabel: 'Link to this sentence and translator' });

  constructor() {
    super();
    const v = this.#view;
    v.heading = el('p', 'caption', 'French, with attention');
    v.translation = el('p', 'translation');
    v.translation.lang = 'fr';
    v.translation.setAttribute('part', 'translation');
    v.timing = el('p', 'timing');
    v.baselineHeading = el('p', 'caption', 'French, without attention (one fixed vector)');
    v.baseline = el('p', 'translation baseline');
    v.baseline.lang = 'fr';
    v.baseline.setAttribute('part', 'baseline');
    v.alignmentHeading = el('p', 'caption', 'Alignment: what each French word attended to');
    v.oov = el('p', 'explanation');
    v.sourceCaption = el('p', 'explanation');
    v.source = el('p', 'highlight source');
    v.source.setAttribute('part', 'highlight');
    v.tableWrap = el('div', 'table-wrap');
    v.table = el('table', 'alignment');
    v.table.setAttribute('part', 'alignment');
    v.table.setAttribute('aria-label', 'Attention weights: rows are French tokens, columns English tokens');
    v.tableWrap.append(v.table);
    v.hint = el('p', 'explanation', 'Each row is one decoding step: its attention weights over the English tokens (they sum to 1). '
      + 'Point at a cell for its weight; choose a French word to shade the sentence by its row.');
    v.info = el('p', 'footer');
    v.result = el('div', 'translate-result');
    v.result.append(v.heading, v.translation, v.timing, v.baselineHeading, v.baseline, v.alignmentHeading, v.oov, v.sourceCaption,
      v.source, v.tableWrap, v.hint);
    v.result.hidden = true;
    this.frame.append(v.result, v.tools = this.#tools.root, v.info);
  }

  exportFile(kind, options) {
    const result = this.#result;
    if (!result) return null;
    const described = { ...options, heading: this.#view.heading.textContent, about: this.#view.info.textContent };
    const blob = kind === 'html' ? new Blob([translationToHtml(result, described)], { type: 'text/html' })
      : kind === 'svg' ? new Blob([translationToSvg(result, described)], { type: 'image/svg+xml' })
        : translationToPng(result, described);
    return { blob, name: fileName(result, kind) };
  }

  linkParams() {
    return [['kind', 'translate'], ['model', this.getAttribute('model')], ['baseline', this.getAttribute('baseline')],
      ['beam', this.#beam() > 1 ? String(this.#beam()) : null], ['text', this.text]];
  }

  get result() { return this.#result; }
  get inputLabel() { return 'English sentence to translate'; }
  get inputRows() { return 2; }
  get inputPlaceholder() { return 'e.g. I am cold.'; }

  // Translates the text (default: the current one); resolves with the result shown for it (or for
  // a newer text, if one came meanwhile).
  translate(text) {
    if (!this.isConnected) return Promise.reject(new Error('translate(): the element is not in the document'));
    const result = new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.setText(text === undefined ? this.text : String(text));
    this.start();
    return result;
  }

  #settle(error, result) {
    for (const waiter of this.#waiters.splice(0)) {
      if (error) waiter.reject(error);
      else waiter.resolve(result);
    }
  }

  makeInputControls() {
    this.input.lang = 'en';
    const label = el('label', 'checkbox');
    this.#beamBox = el('input');
    this.#beamBox.type = 'checkbox';
    this.#beamBox.setAttribute('part', 'beam');
    this.#beamBox.checked = this.#beam() > 1;
    this.#beamBox.addEventListener('change', () => { this.beam = this.#beamBox.checked ? '5' : '1'; });
    label.append(this.#beamBox, document.createTextNode(' Beam search (width 5) instead of greedy decoding'));
    return [label];
  }

  attributeChanged(name) {
    if (name === 'beam') {
      if (this.#beamBox) this.#beamBox.checked = this.#beam() > 1;
      this.run();
    } else if (name === 'tools') {
      this.#tools.update(this.#result?.sourceTokens.length > 0);
    } else if (name === 'model' || name === 'baseline') {
      this.release();
      if (this.started) this.open();
    }
  }

  #beam() {
    const beam = Number.parseInt(this.beam, 10);
    return Number.isInteger(beam) && beam >= 1 && beam <= 16 ? beam : 1;
  }

  open() {
    this.setState('loading', 'Loading the translator…');
    const generation = ++this.#generation;
    const roles = [['main', this.model]];
    if (this.baseline && this.baseline !== 'none') roles.push(['baseline', this.baseline]);
    const explicitBaseline = this.hasAttribute('baseline');
    const held = {};
    const opening = this.#opening = Promise.all(roles.map(async ([role, name]) => {
      try {
        held[role] = { name, ...(await engine.acquire(name, 'translator')) };
      } catch (error) {
        if (role === 'baseline' && !explicitBaseline) return;  // the default baseline is optional
        throw error;
      }
    }));
    opening.then(() => {
      if (generation !== this.#generation || !this.started) {  // released (or changed) while loading
        for (const { key } of Object.values(held)) engine.release(key);
        return;
      }
      this.#held = held;
      this.#describe();
      this.setState('ready', '');
      if (this.input) this.input.disabled = false;
      this.emit('attn-lens-ready', { models: Object.values(held).map(({ name, info }) => ({ name, info })) });
      this.run();
    }, (error) => {
      for (const { key } of Object.values(held)) engine.release(key);
      if (generation !== this.#generation) return;
      if (this.input) this.input.disabled = true;
      this.fail(error.message ?? String(error));
      this.#settle(error);
    });
  }

  #onStopped = (event) => this.engineStopped(event);

  connected() {
    engine.addEventListener('stopped', this.#onStopped);
  }

  release() {
    engine.removeEventListener('stopped', this.#onStopped);
    for (const { key } of Object.values(this.#held)) engine.release(key);
    this.#held = {};
    this.#opening = null;
    this.#generation += 1;
    if (!this.isConnected) this.#settle(new Error('translate(): the element left the document'));
  }

  run() {
    if (!this.started || !this.#held.main) return;
    const text = this.text, beam = this.#beam(), generation = this.#generation;
    this.#lane.run(text, beam).then((answer) => {
      if (answer === Latest.SUPERSEDED || answer.generation !== this.#generation) return;
      if (text !== this.text || beam !== this.#beam()) return;
      this.#render(text, answer);
    }, (error) => {
      if (text === this.text && generation === this.#generation) {
        this.fail(error.message ?? String(error));
        this.#settle(error);
      }
    });
  }

  #describe() {
    const main = this.#held.main, baseline = this.#held.baseline;
    const kind = KINDS[main?.info?.attention];
    this.#view.heading.textContent = kind ? `French, with attention (${kind})` : 'French, with attention';
    const parts = [];
    if (main) parts.push(`With attention: ${main.info.description}; ${bleuText(main.info)}.`);
    if (baseline) parts.push(`Without attention: ${baseline.info.description}; ${bleuText(baseline.info)}.`);
    if (main?.info?.credit) parts.push(`Trained on English–French sentence pairs from ${main.info.credit}.`);
    this.#view.info.textContent = parts.join(' ');
    this.#view.baselineHeading.hidden = this.#view.baseline.hidden = !baseline;
  }

  async #translateBoth(text, beam) {
    const { main, baseline } = this.#held, generation = this.#generation;
    if (!main) return Latest.SUPERSEDED;
    const first = await engine.translate(main.key, text, { beam });
    if (generation !== this.#generation) return Latest.SUPERSEDED;  // the translators changed meanwhile
    const second = baseline ? await engine.translate(baseline.key, text, { beam }) : null;
    return { main: first, baseline: second, beam, generation, model: main.name };
  }

  #render(text, { main, baseline, beam, model }) {
    const { result, milliseconds } = main;
    const v = this.#view;
    this.#current = { text, result };
    if (this.#selectedRow >= result.targetTokens.length) this.#selectedRow = -1;
    v.translation.textContent = result.translation || (result.sourceTokens.length ? '(empty translation)' : '—');
    v.baseline.textContent = baseline ? (baseline.result.translation || '—') : '';
    v.timing.textContent = result.sourceTokens.length
      ? `${result.sourceTokens.length} English → ${result.targetTokens.length} French tokens, `
        + `${beam === 1 ? 'greedy' : `beam search (width ${beam})`}, ${milliseconds.toFixed(1)} ms`
        + `${result.truncated ? '; only the first 200 tokens were read' : ''}`
      : '';
    const unknown = result.sourceTokens.filter((t) => t.oov).map((t) => t.text);
    v.oov.textContent = unknown.length ? `Unknown to the translator (shown dotted, read as <unk>): ${unknown.join(', ')}.` : '';
    this.#drawHeatmap(result);
    this.#drawSource();
    v.result.hidden = !result.sourceTokens.length;
    if (this.state !== 'ready') this.setState('ready', '');
    this.#result = {
      text, model, translation: result.translation, sourceTokens: result.sourceTokens,
      targetTokens: result.targetTokens, attention: result.attention, logProbability: result.logProbability,
      truncated: result.truncated, beam, baseline: baseline ? baseline.result.translation : null, engineMs: milliseconds,
    };
    this.#tools.update(result.sourceTokens.length > 0);
    this.#settle(null, this.#result);
    this.emit('attn-lens-result', this.#result);
    if (result.translation) announce(`Translation: ${result.translation}`);
  }

  #selectRow(row) {
    this.#selectedRow = row;
    for (const th of this.#view.table.querySelectorAll('tbody th')) {
      th.classList.toggle('selected', Number(th.dataset.row) === row);
      th.querySelector('button')?.setAttribute('aria-pressed', String(Number(th.dataset.row) === row));
    }
    this.#drawSource();
  }

  // The English sentence with each token shaded by the chosen French token's attention.
  #drawSource() {
    if (!this.#current) return;
    const { text, result } = this.#current;
    const row = this.#selectedRow;
    const weights = row >= 0 && result.attention[row] ? result.attention[row] : null;
    const fragment = document.createDocumentFragment();
    let cursor = 0;
    result.sourceTokens.forEach((token, j) => {
      if (token.start > cursor) fragment.append(document.createTextNode(text.slice(cursor, token.start)));
      const span = el('span', token.oov ? 'token oov' : 'token', text.slice(token.start, token.end));
      span.setAttribute('part', 'token');
      span.style.setProperty('--w', weights ? weights[j].toFixed(3) : '0');
      span.dataset.weight = weights ? String(weights[j]) : '';
      if (token.oov) span.title = 'Not in the translator’s English vocabulary (read as <unk>)';
      fragment.append(span);
      cursor = token.end;
    });
    if (cursor < text.length) fragment.append(document.createTextNode(text.slice(cursor)));
    this.#view.source.replaceChildren(fragment);
    this.#view.sourceCaption.textContent = weights
      ? `What “${result.targetTokens[row]}” attended to (its row of the heatmap):`
      : 'Choose a French word (a row of the heatmap) to see the English words it attended to.';
  }

  #drawHeatmap(result) {
    const head = el('thead');
    const headRow = el('tr');
    const corner = el('td', 'corner', 'French ↓ English →');
    headRow.append(corner);
    for (const token of result.sourceTokens) {
      const th = el('th', token.oov ? 'oov' : '', token.text);
      th.scope = 'col';
      if (token.oov) th.title = 'unknown word: not in the translator’s English vocabulary';
      headRow.append(th);
    }
    head.append(headRow);
    const body = el('tbody');
    result.attention.forEach((row, i) => {
      const tr = el('tr');
      const th = el('th');
      th.scope = 'row';
      th.dataset.row = String(i);
      th.classList.toggle('selected', i === this.#selectedRow);
      const button = el('button', '', result.targetTokens[i]);
      button.type = 'button';
      button.setAttribute('aria-pressed', String(i === this.#selectedRow));
      button.addEventListener('click', () => this.#selectRow(i));
      th.append(button);
      tr.append(th);
      row.forEach((weight, j) => {
        const td = el('td');
        td.style.setProperty('--w', weight.toFixed(3));
        td.dataset.weight = weight.toFixed(4);
        const description = `“${result.targetTokens[i]}” → “${result.sourceTokens[j].text}”: ${weight.toFixed(3)}`;
        td.title = description;
        td.setAttribute('aria-label', description);
        tr.append(td);
      });
      body.append(tr);
    });
    this.#view.table.replaceChildren(head, body);
    this.#view.table.hidden = result.attention.length === 0;
  }
}
