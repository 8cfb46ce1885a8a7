// The Explain view: one review, every explanation method side by side, and the numbers that say
// which one the model relies on (issue 17). The methods run in the page's one engine worker
// (engine.explain / faithfulness / attentionExperiments: forward-only methods in attnlens.wasm,
// gradient methods in the engine with gradients, loaded when first asked for); the
// deletion curves are drawn with the page's chart library (uPlot, as the Train view's).
//
// As the visitor types, the methods run one after another, each panel updating when its scores
// arrive; then the faithfulness metrics of all of them (a copy of the review per word: its cost
// grows with the square of the length, so reviews over LIVE_TOKENS words wait for a button).
// Typing again abandons what is left of the run; nothing stale is ever drawn.
import { engine } from './dist/attn-lens-client.js';
import { METHOD_TITLES, drawHighlight, el, grouped, modelTitle } from './dist/attn-lens-view.js';
import { tableRow } from './table.js';

const $ = (id) => document.getElementById(id);
// Occlusion and the faithfulness metrics score a copy of the review per word: above this many
// words they run when asked, not on every keystroke.
export const LIVE_TOKENS = 400;
const SIGNED = new Set(['gradient-x-input', 'integrated-gradients', 'occlusion', 'contribution']);
const PER_WORD = new Set(['occlusion']);  // methods that also copy the review per word
const COLOURS = { attention: '#d95f02', contribution: '#1f78b4', 'attention-rollout': '#e7298a', gradient: '#7570b3', 'gradient-x-input': '#1b9e77',
  'integrated-gradients': '#66a61e', occlusion: '#a6761d', random: '#888888' };
const DEBOUNCE_MS = 250;

let uPlot = null;
let started = false;
const state = {
  model: null,        // shown model's name
  key: null,          // its engine key (held while shown)
  info: null,
  generation: 0,      // bumps on every change: a run that sees another number stops
  done: -1,           // the generation last drawn in full
  running: false,
  timer: null,
  chart: null,
  measureLong: false, // the visitor asked for the metrics of a long review
  experimentText: null, // the review the experiments shown are of
  resize: null,       // the curves' ResizeObserver
  panels: new Map(),  // method → {root, highlight, note}
};

// Which methods a model has: attention where it has attention pooling (and the contributions
// built on it), attention and rollout for a Transformer, and the rest for every model.
export function methodsFor(info) {
  const methods = [];
  if (info?.hasAttention || info?.transformerLayers) methods.push('attention');
  if (info?.hasAttention) methods.push('contribution');
  if (info?.transformerLayers) methods.push('attention-rollout');
  return [...methods, 'gradient', 'gradient-x-input', 'integrated-gradients', 'occlusion', 'random'];
}

function options() {
  const steps = Math.round(Number($('explain-steps').value));
  return {
    steps: Number.isFinite(steps) ? Math.min(300, Math.max(1, steps)) : 50,
    baseline: $('explain-baseline').value,
    window: Number($('explain-window').value),
    removal: $('explain-removal').value,
    // A Transformer's attention: the layer (−1: the last) and head (−1: the mean over heads).
    layer: state.info?.transformerLayers ? Number($('explain-layer').value) : -1,
    head: state.info?.transformerLayers ? Number($('explain-head').value) : -1,
  };
}

// Layer and head pickers for a Transformer's attention, hidden for other models.
function transformerChoices(info) {
  const layers = info?.transformerLayers ?? 0, heads = info?.transformerHeads ?? 0;
  $('explain-layer-choice').hidden = $('explain-head-choice').hidden = !layers;
  if (!layers) return;
  $('explain-layer').replaceChildren(new Option(`last (${layers})`, '-1'),
    ...Array.from({ length: layers }, (_, i) => new Option(String(i + 1), String(i))));
  $('explain-head').replaceChildren(new Option('mean', '-1'), ...Array.from({ length: heads }, (_, i) => new Option(String(i + 1), String(i))));
}

function setStatus(text, kind = '') {
  const node = $('explain-status');
  node.textContent = text;
  node.className = `hint ${kind}`;
}

const fixed = (v, digits = 3) => (v == null ? '—' : v.toFixed(digits));
const pct = (v, digits = 0) => (v == null ? '—' : `${(100 * v).toFixed(digits)} %`);

// ---------------------------------------------------------------- panels
function buildPanels(methods) {
  const grid = $('explain-methods');
  grid.replaceChildren();
  state.panels.clear();
  for (const method of methods) {
    const root = el('div', 'explain-panel');
    root.dataset.method = method;
    root.setAttribute('role', 'group');
    root.setAttribute('aria-label', METHOD_TITLES[method]);
    const title = el('h3', '', METHOD_TITLES[method]);
    title.style.setProperty('--method', COLOURS[method]);
    const how = el('p', 'how');
    const highlight = el('p', 'highlight');
    highlight.setAttribute('role', 'group');
    highlight.setAttribute('aria-label', `The review shaded by ${METHOD_TITLES[method]}`);
    const note = el('p', 'note');
    const detail = el('p', 'detail');
    root.append(title, how, highlight, detail, note);
    grid.append(root);
    // The tokens are buttons (drawHighlight): pointing at one, focusing it or pressing it shows its score.
    const show = (event) => {
      const span = event.target.closest?.('.token');
      if (!span) return;
      if (event.type === 'keydown' && event.key !== 'Enter' && event.key !== ' ') return;
      if (event.type === 'keydown') event.preventDefault();
      detail.textContent = `“${span.textContent}”: score ${Number(span.dataset.weight).toPrecision(3)}, rank ${span.dataset.rank} of `
        + `${highlight.querySelectorAll('.token').length}${SIGNED.has(method) ? (Number(span.dataset.weight) < 0 ? ', against the prediction' : ', for the prediction') : ''}.`;
    };
    for (const type of ['mouseover', 'focusin', 'click', 'keydown']) highlight.addEventListener(type, show);
    state.panels.set(method, { root, how, highlight, note, detail });
  }
}

function renderMethod(method, text, result, milliseconds) {
  const panel = state.panels.get(method);
  if (!panel) return;
  panel.root.classList.remove('pending', 'failed', 'deferred');
  panel.detail.textContent = '';
  panel.how.textContent = result.aggregation;
  const weights = result.tokens.map((t) => t.score);
  const signed = SIGNED.has(method);
  drawHighlight(panel.highlight, text, result.tokens, weights, { signed, format: (w) => w.toPrecision(3) });
  const gap = result.completenessGap == null ? ''
    : ` Completeness gap δ = ${result.completenessGap.toPrecision(2)} of F(x) − F(x′) = ${(result.output - result.baselineOutput).toPrecision(3)}`
      + ` (${pct(result.completenessGap / Math.max(1e-12, Math.abs(result.output - result.baselineOutput)), 1)}).`;
  panel.note.textContent = `${signed ? 'Orange: for the prediction; blue: against. ' : ''}${milliseconds.toFixed(0)} ms.${gap}`;
  panel.root.dataset.tokens = String(result.tokens.length);
  if (result.completenessGap != null) panel.root.dataset.gap = String(result.completenessGap);
}

// A method that could not run (failed), or that waits for the visitor's go-ahead (deferred).
function failMethod(method, message, kind = 'failed') {
  const panel = state.panels.get(method);
  if (!panel) return;
  panel.root.classList.remove('pending', 'failed', 'deferred');
  panel.root.classList.add(kind);
  panel.highlight.replaceChildren();
  panel.note.textContent = message;
}

// ---------------------------------------------------------------- faithfulness
// The table, the reading and the curves: hidden until figures of the review shown replace them.
function clearFaithfulness() {
  $('explain-table').hidden = true;
  $('explain-reading').textContent = '';
  state.chart?.destroy();
  state.chart = null;
  $('explain-curves').replaceChildren();
  delete $('explain-curves').dataset.series;
}

function renderTable(result, methods) {
  const body = $('explain-table').querySelector('tbody');
  body.replaceChildren();
  for (const method of methods) {
    const m = result.methods[method];
    const tr = tableRow([METHOD_TITLES[method], fixed(m.aopcComprehensiveness), fixed(m.aopcSufficiency),
      m.decisionFlipTop1 ? 'yes' : 'no', m.decisionFlipFraction == null ? 'never' : pct(m.decisionFlipFraction, 1), fixed(m.kendallTauLoo, 2)]);
    tr.dataset.method = method;
    body.append(tr);
  }
  const random = tableRow(['a random ordering (mean of 10)', fixed(result.random.aopcComprehensiveness), fixed(result.random.aopcSufficiency), '', '', '']);
  random.className = 'random-baseline';
  body.append(random);
  $('explain-table').hidden = false;
}

// What the numbers say, in plain words made from them.
export function readingOf(result, methods, label, removal = 'delete') {
  const ranked = methods.filter((m) => m !== 'random')
    .sort((a, b) => result.methods[b].aopcComprehensiveness - result.methods[a].aopcComprehensiveness);
  if (!ranked.length) return '';
  const best = ranked[0];
  const b = result.methods[best];
  const at5 = (m) => result.methods[m].comprehensiveness['5'];
  const random = result.random.aopcComprehensiveness;
  const sentences = [
    `The model reads this review as ${label} (p = ${fixed(result.probability)} for that class).`,
    `Taking away the 5 % of words ${METHOD_TITLES[best].toLowerCase()} ranks highest lowers p by ${fixed(at5(best))}; `
      + `on average over 1–50 % of the words, by ${fixed(b.aopcComprehensiveness)}, against ${fixed(random)} for words taken at random: `
      + `of these methods, ${METHOD_TITLES[best].toLowerCase()} shows best what this prediction rests on.`,
  ];
  if (result.methods.attention) {
    const a = result.methods.attention;
    const rank = ranked.indexOf('attention') + 1;
    sentences.push(a.aopcComprehensiveness >= 2 * random
      ? `Attention ranks ${rank} of ${ranked.length}: the words it weighs most matter to the prediction (${fixed(a.aopcComprehensiveness)}, `
        + `${(a.aopcComprehensiveness / Math.max(random, 1e-9)).toFixed(1)}× random).`
      : `Attention ranks ${rank} of ${ranked.length}, and taking away the words it weighs most changes the prediction `
        + `${a.aopcComprehensiveness < random ? 'less than' : 'little more than'} taking away random ones `
        + `(${fixed(a.aopcComprehensiveness)} against ${fixed(random)}): here the highlight is not what the model relies on.`);
  }
  if (b.decisionFlipFraction != null) {
    sentences.push(`Removing words in ${METHOD_TITLES[best].toLowerCase()}'s order flips the label after ${pct(b.decisionFlipFraction, 1)} of them.`);
  } else {
    sentences.push(removal === 'delete'
      ? `Even with every word removed in ${METHOD_TITLES[best].toLowerCase()}'s order the label does not flip: the model's bias alone reads ${label}.`
      : `Even with every word replaced by <pad> in ${METHOD_TITLES[best].toLowerCase()}'s order the label does not flip.`);
  }
  return sentences.join(' ');
}

async function loadCharts() {
  if (uPlot) return;
  const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: new URL('./dist/vendor/uPlot.min.css', import.meta.url).href });
  document.head.append(link);
  ({ default: uPlot } = await import('./dist/vendor/uPlot.esm.js'));
}

function drawCurves(result, methods) {
  const node = $('explain-curves');
  const x = result.methods[methods[0]].deletionCurve.map(([fraction]) => fraction);
  const data = [x, ...methods.map((m) => result.methods[m].deletionCurve.map(([, p]) => p))];
  node.dataset.series = String(methods.length);
  if (!uPlot) return;
  const signature = methods.join(' ');
  if (state.chart && state.chart.signature === signature) {
    state.chart.setData(data);
    return;
  }
  state.chart?.destroy();
  node.replaceChildren();
  const width = Math.max(260, node.clientWidth || 480);
  state.chart = new uPlot({
    width, height: 220,
    scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
    axes: [{ label: 'share of words removed, in the method’s order', values: (u, ticks) => ticks.map((t) => `${Math.round(t * 100)} %`) },
      { label: 'p of the predicted class', size: 50 }],
    series: [{ label: 'removed', value: (u, v) => (v == null ? '' : `${Math.round(v * 100)} %`) },
      ...methods.map((m) => ({ label: METHOD_TITLES[m], stroke: COLOURS[m], width: 1.75, value: (u, v) => (v == null ? '' : v.toFixed(3)) }))],
  }, data, node);
  state.chart.signature = signature;
  state.resize ??= new ResizeObserver(() => state.chart?.setSize({ width: Math.max(260, node.clientWidth), height: 220 }));
  state.resize.observe(node);  // one observer for the view; observing again is a no-op
}

// ---------------------------------------------------------------- the run
function changed() {
  state.generation += 1;
  clearTimeout(state.timer);
  state.timer = setTimeout(run, DEBOUNCE_MS);
}

async function run() {
  if (state.running) return;  // the running one starts another when it ends
  state.running = true;
  try {
    // Until the newest change is drawn; a model being loaded starts its own run when it is ready.
    while (state.key && state.done !== state.generation) {
      const generation = state.generation;
      await runOnce(generation);
      if (generation === state.generation) state.done = generation;
    }
  } finally {
    state.running = false;
  }
}

async function runOnce(generation) {
  const text = $('explain-text').value;
  const stale = () => generation !== state.generation;
  const methods = methodsFor(state.info);
  const settings = options();
  if (text !== state.experimentText) {  // the experiments shown were of another review (or model)
    $('explain-experiments').replaceChildren();
    delete $('explain-experiments').dataset.kind;
  }
  if (!text.trim()) {
    for (const panel of state.panels.values()) {
      panel.highlight.replaceChildren();
      panel.note.textContent = '';
    }
    clearFaithfulness();
    $('explain-measure').hidden = true;
    setStatus('Type a review to see which words each method says the prediction rests on.');
    return;
  }
  for (const panel of state.panels.values()) panel.root.classList.add('pending');
  setStatus('Explaining…', 'loading');
  let tokens = 0;
  for (const method of methods) {
    if (stale()) return;
    if (PER_WORD.has(method) && tokens > LIVE_TOKENS && !state.measureLong) {
      failMethod(method, `Occlusion runs a copy of the review per word: press “Measure faithfulness” for these ${grouped(tokens)} words.`,
        'deferred');
      continue;
    }
    try {
      const { result, milliseconds } = await engine.explain(state.key, text, { method, steps: settings.steps, baseline: settings.baseline,
        window: settings.window, occlude: settings.removal, layer: settings.layer, head: settings.head });
      if (stale()) return;
      tokens = result.tokens.length;
      renderMethod(method, text, result, milliseconds);
    } catch (error) {
      if (stale()) return;
      failMethod(method, error.message ?? String(error));
    }
  }
  if (stale()) return;
  const long = tokens > LIVE_TOKENS && !state.measureLong;
  $('explain-measure').hidden = !long;
  if (long) {
    clearFaithfulness();
    setStatus(`${grouped(tokens)} words: occlusion and the faithfulness metrics score a copy of the review per word (work `
      + 'grows with the square of the length: minutes for a review this long, while the page\'s other views wait), so they run when '
      + 'you press “Measure faithfulness”.', 'ready');
    return;
  }
  setStatus(`Measuring how faithful each method is (${grouped(tokens)} words; a copy of the review per word)…`, 'loading');
  try {
    const { result, milliseconds } = await engine.faithfulness(state.key, text, { methods, ...settings });
    if (stale()) return;
    renderTable(result, methods);
    const label = result.methods[methods[0]].explanation.label;
    $('explain-reading').textContent = readingOf(result, methods, label, settings.removal);
    drawCurves(result, methods);
    setStatus(`Measured in ${(milliseconds / 1000).toFixed(1)} s. Removing a word ${settings.removal === 'delete' ? 'deletes it' : 'replaces it by <pad>'}.`, 'ready');
  } catch (error) {
    if (stale()) return;
    clearFaithfulness();
    setStatus(error.message ?? String(error), 'error');
  }
}

// ---------------------------------------------------------------- the experiments
async function experiment(kind) {
  const text = $('explain-text').value;
  const node = $('explain-experiments');
  if (!state.info?.hasAttention) {
    node.replaceChildren(el('p', 'hint', `${modelTitle(state.model)} has no attention pooling: the experiments change an attention `
      + 'pooling\'s weights and keep everything else. Pick BiLSTM + attention or GRU + attention.'));
    return;
  }
  if (!text.trim() || !state.key) return;
  const model = state.model;
  const stale = () => $('explain-text').value !== text || state.model !== model;  // options may change; the review may not
  delete node.dataset.kind;
  state.experimentText = text;
  node.replaceChildren(el('p', 'hint', 'Running…'));
  try {
    const { result, milliseconds } = await engine.attentionExperiments(state.key, text, {});
    if (stale()) return;
    const tokens = (await engine.explain(state.key, text, { method: 'attention' })).result.tokens;
    const p = result.probability;
    const parts = [];
    if (kind === 'permuted') {
      parts.push(el('p', '', `Shuffling the ${tokens.length} attention weights over the words, 100 times, keeping everything else: `
        + `p (${fixed(p)}) moves by a median ${fixed(result.permuted.medianAbsChange, 4)}, at most ${fixed(result.permuted.maxAbsChange, 4)}. `
        + (result.permuted.medianAbsChange < 0.05 ? 'Which words get the weight hardly matters to this prediction (Jain & Wallace 2019).'
          : 'Which words get the weight matters to this prediction.')));
    } else if (kind === 'uniform') {
      parts.push(el('p', '', `Every word the same weight (1/${tokens.length}): p moves by ${fixed(result.uniform.absChange, 4)}. `
        + (result.uniform.absChange < 0.05 ? 'A uniform baseline does almost as well here (Wiegreffe & Pinter 2019 make this check).'
          : 'The learnt weights do matter here, compared with uniform ones.')));
    } else {
      parts.push(el('p', '', `Attention as different as the search could find (Jensen–Shannon divergence ${fixed(result.adversarial.jsd)}, `
        + `at most ln 2 ≈ 0.693) that keeps p within ${fixed(result.adversarial.absChange, 4)} of ${fixed(p)}: `
        + (result.adversarial.jsd > 0.3 ? 'a very different highlight gives the same prediction.' : 'the search could not move far from the model\'s attention.')));
      const pair = el('div', 'explain-pair');
      for (const [title, weights] of [['The model’s attention', result.attention], ['Adversarial attention', result.adversarial.attention]]) {
        const box = el('div', 'explain-panel');
        const highlight = el('p', 'highlight');
        box.append(el('h3', '', title), highlight);
        drawHighlight(highlight, text, tokens, weights);
        pair.append(box);
      }
      parts.push(pair);
    }
    parts.push(el('p', 'hint', `${milliseconds.toFixed(0)} ms for the three experiments.`));
    node.replaceChildren(...parts);
    node.dataset.kind = kind;
  } catch (error) {
    if (stale()) return;
    node.replaceChildren(el('p', 'error', error.message ?? String(error)));
  }
}

// ---------------------------------------------------------------- setup
async function useModel(name) {
  const previous = state.key;
  state.model = name;
  state.experimentText = null;
  state.measureLong = false;
  state.key = null;
  state.info = null;
  state.generation += 1;
  setStatus(`Loading ${modelTitle(name)}…`, 'loading');
  try {
    const { key, info } = await engine.acquire(name);
    if (state.model !== name) {
      engine.release(key);
      return;
    }
    state.key = key;
    state.info = info;
    buildPanels(methodsFor(info));
    transformerChoices(info);
    clearFaithfulness();
    $('explain-experiments').replaceChildren();
    for (const id of ['explain-permute', 'explain-uniform', 'explain-adversarial']) $(id).disabled = !info.hasAttention;
    $('explain-experiments-note').textContent = info.hasAttention ? ''
      : `${modelTitle(name)} has no attention pooling: the experiments need one (BiLSTM + attention, GRU + attention).`;
    changed();
  } catch (error) {
    if (state.model !== name) return;
    $('explain-methods').replaceChildren();  // the previous model's panels are not this one's
    state.panels.clear();
    clearFaithfulness();
    setStatus(`${error.message ?? String(error)} Pick the model again to retry.`, 'error');
    $('explain-model').selectedIndex = -1;  // so that picking it again is a change
  } finally {
    if (previous) engine.release(previous);
  }
}

// Opens the view (once): models from the package's list, the text from `initialText`.
export async function showExplain({ initialText = '', models = [] } = {}) {
  if (started) {
    if (initialText && !$('explain-text').value) {
      $('explain-text').value = initialText;
      changed();
    }
    return;
  }
  started = true;
  const select = $('explain-model');
  for (const model of models) select.append(new Option(modelTitle(model), model));
  select.value = models.includes('bilstm-attention') ? 'bilstm-attention' : models[0];
  select.addEventListener('change', () => useModel(select.value));
  $('explain-text').value = initialText;
  $('explain-text').addEventListener('input', () => {
    state.measureLong = false;
    changed();
  });
  for (const id of ['explain-steps', 'explain-baseline', 'explain-window', 'explain-removal', 'explain-layer', 'explain-head']) {
    $(id).addEventListener('change', changed);
  }
  $('explain-measure').addEventListener('click', () => {
    state.measureLong = true;
    $('explain-measure').hidden = true;
    changed();
  });
  $('explain-permute').addEventListener('click', () => experiment('permuted'));
  $('explain-uniform').addEventListener('click', () => experiment('uniform'));
  $('explain-adversarial').addEventListener('click', () => experiment('adversarial'));
  try {
    await loadCharts();
  } catch (error) {
    $('explain-curves').textContent = `Could not load the chart library (dist/vendor/uPlot.esm.js): ${error.message}`;
  }
  if (select.value) await useModel(select.value);
}

// The view's text, for the example buttons.
export const explainText = {
  get text() { return $('explain-text').value; },
  set text(value) {
    $('explain-text').value = value;
    state.measureLong = false;
    changed();
  },
};
