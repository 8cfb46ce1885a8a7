// What <attn-lens> shows, built as DOM (never HTML strings): the verdict, the review with each
// token shaded by its weight, the legend, the words that weighed most (a text alternative that
// does not depend on colour), and the one polite live region the page's elements share.
// The visitor's text only ever enters the page as text nodes; shading goes in through the CSSOM
// (a custom property per token), so nothing here needs 'unsafe-inline'.

export const NAMES = {
  lstm: 'LSTM', cnn: 'CNN', 'bilstm-attention': 'BiLSTM + attention', 'gru-attention': 'GRU + attention',
  transformer: 'Transformer', ngram: 'N-gram baseline', 'gru-attention-ngrams': 'GRU + attention + n-grams',
};
export const modelTitle = (name) => (Object.hasOwn(NAMES, name) ? NAMES[name] : name);
export const setModelTitle = (name, title) => { NAMES[name] = title; };
export const percent = (value, digits = 1) => `${(100 * value).toFixed(digits)} %`;
// A whole number with thousands separators, "12,345". Not toLocaleString: its first call in a page
// sets up ICU's number formatting, 70–210 ms on the main thread in Chromium here (measured in a
// fresh context), which an element paid before its first highlight.
export const grouped = (value) => String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// The explanation methods beyond classify()'s, by name (model.explain's methods).
export const METHOD_TITLES = {
  attention: 'Attention', 'attention-rollout': 'Attention rollout', gradient: 'Gradient', 'gradient-x-input': 'Gradient × input',
  'integrated-gradients': 'Integrated gradients', occlusion: 'Occlusion', random: 'Random (a baseline)', contribution: 'Contribution',
};

// A score as the panel shows it: a share of the total for weights that sum to 1, else the number.
export const formatWeight = (prediction, weight) => (prediction.scale === 'score' ? weight.toPrecision(3) : percent(weight));

// What the weights are, in a sentence a learner can read (`info`: the model's, when known).
export function explanationText(prediction, info = null) {
  if (prediction.aggregation) {
    const title = METHOD_TITLES[prediction.explanation] ?? prediction.explanation;
    const gap = prediction.completenessGap == null ? ''
      : ` Completeness gap δ = ${prediction.completenessGap.toPrecision(2)} (how far the scores' sum is from F(x) − F(baseline)).`;
    return `${title}: ${prediction.aggregation}.${prediction.signed ? ' Words for the prediction and words against it are shaded in two colours (see the legend).' : ''}${gap}`;
  }
  if (prediction.explanation === 'self-attention') {
    return `Self-attention each word receives (mean over queries), layer ${prediction.attentionLayer + 1}, `
      + `${prediction.attentionHead < 0 ? 'mean over heads' : `head ${prediction.attentionHead + 1}`}; the weights sum to 1.`;
  }
  if (prediction.explanation === 'attention') return 'Attention weights of the attention pooling (they sum to 1).';
  if (prediction.explanation === 'contribution') {
    return 'Contribution: each word’s part of the score for the prediction, its attention weight times what the model read there'
      + `${(info ?? prediction).ngramPath ? ', plus its share of the word and phrase (n-gram) evidence' : ''}; the parts add up to the score less the model’s bias.`
      + ' Words for the prediction and words against it are shaded in two colours (see the legend).';
  }
  return 'Gradient × input saliency: each word is shaded by |∂logit/∂embedding · embedding|, normalised to sum to 1.';
}

// Draws `text` into `container` with one span per token, shaded by weight / the largest weight
// (custom property --w, 0–1). Tokens form one tab stop: Tab reaches the first, arrow keys, Home
// and End move between them (roving tabindex), and each announces its word, weight and rank.
// Signed weights (evidence for and against the prediction) shade by |weight| / the largest
// |weight|, the negative ones in the second colour (class "against"). Returns the largest |weight|.
export function drawHighlight(container, text, tokens, weights, { signed = false, format = percent } = {}) {
  const maxWeight = weights.reduce((m, w) => Math.max(m, Math.abs(w)), 0);
  const order = weights.map((w, i) => i).sort((a, b) => weights[b] - weights[a]);
  const rank = new Array(weights.length);
  order.forEach((tokenIndex, position) => { rank[tokenIndex] = position + 1; });
  const fragment = document.createDocumentFragment();
  let cursor = 0;
  tokens.forEach((token, index) => {
    if (token.start > cursor) fragment.append(document.createTextNode(text.slice(cursor, token.start)));
    const against = signed && weights[index] < 0;
    const kind = `token${token.oov ? ' oov' : ''}${against ? ' against' : ''}`;
    const span = el('span', kind, text.slice(token.start, token.end));
    span.setAttribute('part', kind);
    span.style.setProperty('--w', (maxWeight > 0 ? Math.abs(weights[index]) / maxWeight : 0).toFixed(3));
    span.tabIndex = index === 0 ? 0 : -1;
    span.setAttribute('role', 'button');
    span.dataset.index = String(index);
    span.dataset.start = String(token.start);
    span.dataset.end = String(token.end);
    span.dataset.weight = String(weights[index]);
    span.dataset.rank = String(rank[index]);
    span.setAttribute('aria-label', `${span.textContent}: ${signed ? 'score' : 'weight'} ${format(weights[index])}`
      + `${signed ? (weights[index] < 0 ? ', against the prediction' : ', for the prediction') : ''}, rank ${rank[index]} of ${tokens.length}`
      + `${token.oov ? ', unknown word' : ''}`);
    fragment.append(span);
    cursor = token.end;
  });
  if (cursor < text.length) fragment.append(document.createTextNode(text.slice(cursor)));
  container.replaceChildren(fragment);
  if (!container.dataset.keys) {  // arrow keys between tokens, set up once per container
    container.dataset.keys = 'roving';
    container.addEventListener('keydown', (event) => {
      const from = event.target.closest?.('.token');
      if (!from) return;
      const all = container.querySelectorAll('.token');
      const at = Number(from.dataset.index);
      const to = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 }[event.key];
      if (to === undefined || !all[to]) return;
      event.preventDefault();
      from.tabIndex = -1;
      all[to].tabIndex = 0;
      all[to].focus();
    });
  }
  return maxWeight;
}

// The few tokens that weighed most, ranked, with their share: "1. moving 23.1 %, 2. …".
export function topWords(tokens, count = 5) {
  return tokens.map((t, i) => ({ text: t.text, weight: t.weight, i }))
    .sort((a, b) => b.weight - a.weight || a.i - b.i).slice(0, count).filter((t) => t.weight > 0);
}

// One polite live region for the whole page, however many elements announce into it.
let announcer = null;
let announceTimer = null;
export function announce(message, { delay = 700 } = {}) {
  if (!globalThis.document?.body) return;
  if (!announcer || !announcer.isConnected) {
    announcer = document.querySelector('[data-attn-lens-announcer]');
    if (!announcer) {
      announcer = document.createElement('div');
      announcer.dataset.attnLensAnnouncer = '';
      announcer.setAttribute('aria-live', 'polite');
      announcer.setAttribute('role', 'status');
      // Visually hidden, set through the CSSOM (no style attribute string).
      Object.assign(announcer.style, {
        position: 'absolute', width: '1px', height: '1px', margin: '-1px', padding: '0', border: '0',
        overflow: 'hidden', clip: 'rect(0 0 0 0)', clipPath: 'inset(50%)', whiteSpace: 'nowrap',
      });
      document.body.append(announcer);
    }
  }
  // Typing produces a result per keystroke: only the one that stays is read out.
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => { announcer.textContent = message; }, delay);
}

// One classifier's result: heading, verdict, explanation, highlight, legend, detail, ranked words.
export class ResultPanel {
  constructor({ heading = true, onControls = null } = {}) {
    this.root = el('div', 'panel');  // a group, not a landmark: a page may hold many
    this.root.setAttribute('part', 'panel');
    this.root.setAttribute('role', 'group');
    this.head = el('div', 'panel-head');
    this.title = el('strong', 'model-name');  // not a heading: the host page owns its outline
    this.title.setAttribute('part', 'model-name');
    this.accuracy = el('span', 'accuracy');
    this.head.append(this.title, this.accuracy);
    this.head.hidden = !heading;

    const verdict = el('div', 'verdict');
    this.label = el('span', 'label', '…');
    this.label.setAttribute('part', 'label');
    this.bar = el('span', 'bar');
    this.bar.setAttribute('part', 'bar');
    this.bar.setAttribute('aria-hidden', 'true');
    this.fill = el('span', 'bar-fill');
    this.fill.setAttribute('part', 'bar-fill');
    this.bar.append(this.fill);
    this.probability = el('span', 'probability');
    verdict.append(this.label, this.bar, this.probability);

    this.explanation = el('p', 'explanation');
    this.explanation.setAttribute('part', 'explanation');
    this.controls = el('div', 'controls');
    this.controls.hidden = true;
    this.onControls = onControls;
    this.highlight = el('p', 'highlight');
    this.highlight.setAttribute('part', 'highlight');
    this.highlight.setAttribute('role', 'group');
    this.highlight.setAttribute('aria-label', 'The text, each word shaded by its weight');
    this.highlight.setAttribute('aria-roledescription', 'shaded text');

    const legend = el('div', 'legend');
    legend.setAttribute('aria-hidden', 'true');
    this.legendMax = el('span', '', 'largest');
    this.legendAgainst = el('span', 'legend-against-part');
    this.legendAgainst.append(el('span', '', 'against'), el('span', 'legend-gradient against'));
    this.legendAgainst.hidden = true;  // signed scores only
    this.legendZero = el('span', '', 'weight 0');
    legend.append(this.legendAgainst, this.legendZero, el('span', 'legend-gradient'), this.legendMax, el('span', 'legend-oov', 'unknown word'));
    this.detail = el('p', 'detail');
    this.detail.setAttribute('part', 'detail');
    this.ranked = el('p', 'ranked');
    this.ranked.setAttribute('part', 'ranked');
    this.timing = el('p', 'timing');
    this.root.append(this.head, verdict, this.explanation, this.controls, this.highlight, legend, this.ranked, this.detail, this.timing);
    this.tokens = [];
    const showDetail = (event) => {
      const span = event.target.closest?.('.token');
      if (span) this.#showDetail(span);
    };
    this.highlight.addEventListener('mouseover', showDetail);
    this.highlight.addEventListener('focusin', showDetail);
    this.highlight.addEventListener('click', showDetail);
    this.highlight.addEventListener('keydown', (event) => {  // the tokens are buttons: Enter and Space show the weight
      if (event.key !== 'Enter' && event.key !== ' ') return;
      event.preventDefault();
      showDetail(event);
    });
  }

  setModel(name, info) {
    this.info = info;
    this.root.dataset.model = name;
    this.title.textContent = modelTitle(name);
    this.root.setAttribute('aria-label', modelTitle(name));
    this.accuracy.textContent = info?.testAccuracy != null ? `IMDB test accuracy ${percent(info.testAccuracy)}`
      : info?.validationAccuracy != null ? `validation accuracy ${percent(info.validationAccuracy)}` : '';
  }

  // Layer and head selects for a Transformer's self-attention; onChange({layer, head}).
  showTransformerControls(info, choice, onChange) {
    if (!info?.transformerLayers) {
      this.controls.hidden = true;
      return;
    }
    this.onChoice = onChange;
    const built = [...this.controls.querySelectorAll('select')];
    if (built.length === 2 && this.controls.dataset.shape === `${info.transformerLayers}×${info.transformerHeads}`) {
      // Built already: only the values follow (replacing a select would drop the keyboard focus).
      for (const select of built) select.value = String(choice[select.dataset.choice]);
      this.controls.hidden = false;
      return;
    }
    const make = (text, options, key) => {
      const label = el('label', '', `${text} `);
      const select = el('select');
      select.setAttribute('part', 'select');
      select.dataset.choice = key;
      for (const [value, name] of options) select.append(new Option(name, String(value)));
      select.value = String(choice[key]);
      select.addEventListener('change', () => {
        const now = Object.fromEntries([...this.controls.querySelectorAll('select')].map((n) => [n.dataset.choice, Number(n.value)]));
        this.onChoice(now);
      });
      label.append(select);
      return label;
    };
    const layers = info.transformerLayers, heads = info.transformerHeads;
    this.controls.replaceChildren(
      make('Layer', [[-1, `last (${layers})`], ...Array.from({ length: layers }, (_, i) => [i, String(i + 1)])], 'layer'),
      make('Head', [[-1, 'mean'], ...Array.from({ length: heads }, (_, i) => [i, String(i + 1)])], 'head'));
    this.controls.dataset.shape = `${layers}×${heads}`;
    this.controls.hidden = false;
  }

  render(text, prediction, milliseconds) {
    const positive = prediction.label === 'positive';
    this.label.textContent = positive ? 'Positive' : 'Negative';
    this.label.className = `label ${prediction.label}`;
    this.label.setAttribute('part', `label ${prediction.label}`);
    this.fill.style.setProperty('--p', prediction.probability.toFixed(4));
    this.probability.textContent = `${percent(prediction.probability)} positive`;
    this.explanation.textContent = explanationText(prediction, this.info);
    this.prediction = prediction;
    this.tokens = prediction.tokens;
    const weights = prediction.tokens.map((t) => t.weight);
    const format = (w) => formatWeight(prediction, w);
    const signed = Boolean(prediction.signed);
    const maxWeight = drawHighlight(this.highlight, text, prediction.tokens, weights, { signed, format });
    this.legendAgainst.hidden = !signed;
    this.legendZero.textContent = signed ? '0' : 'weight 0';
    this.legendMax.textContent = weights.length ? `${signed ? 'for; |score| ' : ''}${format(maxWeight)} (the largest here)` : 'largest';
    const top = topWords(prediction.tokens);
    this.ranked.textContent = top.length
      ? `${signed ? 'Most evidence for the prediction' : 'Weighed most'}: ${top.map((t, i) => `${i + 1}. “${t.text}” ${format(t.weight)}`).join(', ')}.`
      : 'No words yet: the prediction comes from the model’s bias alone.';
    this.detail.textContent = prediction.tokens.length ? 'Point at a word, or Tab to the text and use the arrow keys, to see its weight.' : '';
    this.timing.textContent = milliseconds == null ? ''
      : `${grouped(prediction.tokens.length)} tokens, classified in ${milliseconds.toFixed(1)} ms`;
    this.root.classList.remove('failed');
    // Nothing typed yet: no verdict from the bias alone, just what to do.
    const empty = !text.trim();
    this.root.classList.toggle('empty', empty);
    if (empty) this.explanation.textContent = 'Type a review to see how the model reads it.';
  }

  renderError(message) {
    this.label.textContent = '—';
    this.label.className = 'label';
    this.probability.textContent = '';
    this.explanation.textContent = message;
    this.root.classList.add('failed');
  }

  #showDetail(span) {
    const token = this.tokens[Number(span.dataset.index)];
    if (!token) return;
    const weight = Number(span.dataset.weight);
    const what = this.prediction?.scale === 'score'
      ? `score ${weight.toPrecision(4)}${this.prediction.signed ? (weight < 0 ? ' (against the prediction)' : ' (for the prediction)') : ''}`
      : `weight ${weight.toFixed(4)} (${percent(weight, 2)} of the total)`;
    this.detail.textContent = `“${span.textContent}” — ${what}, rank ${span.dataset.rank} of ${this.tokens.length}`
      + `${token.oov ? '; not in the model’s vocabulary, read as <unk>' : ''}.`;
  }
}
