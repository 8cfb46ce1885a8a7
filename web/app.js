// The demo page: talks to the engine in a worker and draws predictions and token shading
// over the visitor's own text. The visitor's text is only ever inserted as text nodes
// (textContent / createTextNode), never as HTML.
import { EXAMPLES } from './examples.js';
import { startWorker } from './common.js';
import { drawHighlight } from './highlight.js';
import { showTrain } from './train.js';
import { showTranslate } from './translate.js';

const TABS = ['classify', 'compare', 'translate', 'train', 'study'];
const LABELS = {
  lstm: 'LSTM', cnn: 'CNN', 'bilstm-attention': 'BiLSTM + attention', 'gru-attention': 'GRU + attention', transformer: 'Transformer',
};
const $ = (id) => document.getElementById(id);
const review = $('review');
const status = $('status');
const modelSelect = $('model');

let worker;
let models = [];
const infos = new Map();  // model → info()
let view = 'classify';
// One "round" of requests at a time (one model in Classify, all in Compare): a keystroke is sent
// at once when the worker is idle; while it is busy only the newest text follows, so long reviews
// and fast typing never queue stale work.
let round = 0;
let inFlight = 0;
let pending = false;
let sent = null;  // {round, text, inputAt}
let lastInputAt = 0;
const transformerChoice = { layer: -1, head: -1 };  // −1 layer: the last one

function setStatus(text, kind) {
  status.textContent = text;
  status.className = `status ${kind}`;
  document.body.dataset.state = kind;
}

const percent = (value, digits = 1) => `${(100 * value).toFixed(digits)} %`;
const label = (name) => LABELS[name] ?? name;

function describeModel(info) {
  const accuracy = info.testAccuracy == null
    ? (info.validationAccuracy == null ? 'accuracy not recorded' : `validation accuracy ${percent(info.validationAccuracy)} (trained in this browser)`)
    : `IMDB test accuracy ${percent(info.testAccuracy)} on ${Number(info.testCount ?? 0).toLocaleString('en')} reviews`;
  return `Model: ${info.architecture} (${info.description}; `
    + `${Number(info.parameters).toLocaleString('en')} parameters, vocabulary ${info.vocabularySize.toLocaleString('en')}). ${accuracy}.`;
}

function explanationText(prediction, model) {
  if (prediction.explanation === 'self-attention') {  // layer and head as the worker computed them
    return `Self-attention each word receives (mean over queries), layer ${prediction.attentionLayer + 1}, `
      + `${prediction.attentionHead < 0 ? 'mean over heads' : `head ${prediction.attentionHead + 1}`}.`;
  }
  return prediction.explanation === 'attention' ? 'Attention weights of the attention pooling (they sum to 1).'
    : 'Gradient × input saliency: this model has no attention, so each word is shaded by |∂logit/∂embedding · embedding|, normalised to sum to 1.';
}

function renderVerdict(root, prediction) {
  const positive = prediction.label === 'positive';
  const labelNode = root.querySelector('.label');
  labelNode.textContent = positive ? 'Positive' : 'Negative';
  labelNode.className = `label ${prediction.label}`;
  root.querySelector('.bar-fill').style.width = percent(prediction.probability, 2).replace(' ', '');
  root.querySelector('.probability').textContent = `${percent(prediction.probability)} positive`;
}

// ---------------------------------------------------------------- Classify view
let lastTokens = [];
function renderClassify(text, prediction, milliseconds) {
  const result = $('result');
  renderVerdict(result, prediction);
  const weights = prediction.tokens.map((t) => t.weight);
  lastTokens = prediction.tokens;
  const maxWeight = drawHighlight($('highlight'), text, prediction.tokens, weights);
  $('legend-max').textContent = weights.length ? `${maxWeight.toFixed(4)} (the largest here)` : 'largest';
  $('explanation').textContent = explanationText(prediction, modelSelect.value);
  $('timing').textContent = `${prediction.tokens.length.toLocaleString('en')} tokens, classified in ${milliseconds.toFixed(1)} ms`;
  result.hidden = false;
  result.dataset.resultId = String(sent.round);
  result.dataset.engineMs = milliseconds.toFixed(2);
  result.dataset.latencyMs = (performance.now() - sent.inputAt).toFixed(1);
  // For pages that embed or measure the demo: the review as classified, and when.
  document.dispatchEvent(new CustomEvent('attnlens:classified', { detail: { text, model: modelSelect.value, prediction,
    engineMs: milliseconds, latencyMs: performance.now() - sent.inputAt } }));
  $('token-detail').textContent = prediction.tokens.length ? 'Hover over or focus (Tab) a word to see its weight.'
    : 'No words yet: the prediction comes from the model’s bias alone.';
}

function showTokenDetail(span) {
  const token = lastTokens[Number(span.dataset.index)];
  if (!token) return;
  $('token-detail').textContent = `“${span.textContent}” — weight ${Number(span.dataset.weight).toFixed(4)} `
    + `(${percent(Number(span.dataset.weight), 2)} of the total), rank ${span.dataset.rank} of ${lastTokens.length}`
    + `${token.oov ? '; not in the model’s vocabulary, read as <unk>' : ''}.`;
}

// ---------------------------------------------------------------- Compare view
function comparePanel(model) {
  let panel = document.querySelector(`.compare-panel[data-model="${model}"]`);
  if (panel) return panel;
  panel = document.createElement('article');
  panel.className = 'compare-panel';
  panel.dataset.model = model;
  const heading = document.createElement('h3');
  heading.textContent = label(model);
  const verdict = document.createElement('div');
  verdict.className = 'verdict';
  const labelNode = document.createElement('span');
  labelNode.className = 'label';
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('div');
  fill.className = 'bar-fill';
  bar.append(fill);
  const probability = document.createElement('span');
  probability.className = 'probability';
  verdict.append(labelNode, bar, probability);
  const accuracy = document.createElement('p');
  accuracy.className = 'explanation accuracy';
  const explanation = document.createElement('p');
  explanation.className = 'explanation what';
  const highlight = document.createElement('p');
  highlight.className = 'highlight';
  panel.append(heading, accuracy, verdict, explanation);
  if (model === 'transformer') panel.append(transformerControls());
  panel.append(highlight);
  $('compare-grid').append(panel);
  return panel;
}

function transformerControls() {
  const controls = document.createElement('div');
  controls.className = 'controls';
  const info = infos.get('transformer');
  const make = (id, text, options, key) => {
    const labelNode = document.createElement('label');
    labelNode.htmlFor = id;
    labelNode.textContent = text;
    const select = document.createElement('select');
    select.id = id;
    for (const [value, name] of options) select.append(new Option(name, String(value)));
    select.value = String(transformerChoice[key]);
    select.addEventListener('change', () => {
      transformerChoice[key] = Number(select.value);
      requestRound();
    });
    controls.append(labelNode, select);
  };
  const layers = info?.transformerLayers ?? 2, heads = info?.transformerHeads ?? 4;
  make('transformer-layer', 'Layer', [[-1, `last (${layers})`], ...Array.from({ length: layers }, (_, i) => [i, String(i + 1)])], 'layer');
  make('transformer-head', 'Head', [[-1, 'mean'], ...Array.from({ length: heads }, (_, i) => [i, String(i + 1)])], 'head');
  return controls;
}

const compareResults = new Map();  // model → prediction (or {pendingWeights}) of the current round
// The prediction with its token weights replaced by the Transformer's received self-attention.
const withSelfAttention = (prediction, { weights, layer, head }) => ({ ...prediction, explanation: 'self-attention',
  attentionLayer: layer, attentionHead: head, tokens: prediction.tokens.map((t, i) => ({ ...t, weight: weights[i] ?? 0 })) });
function renderCompare(model, text, prediction) {
  const panel = comparePanel(model);
  const info = infos.get(model);
  panel.querySelector('.accuracy').textContent = info?.testAccuracy == null ? ''
    : `IMDB test accuracy ${percent(info.testAccuracy)}`;
  renderVerdict(panel, prediction);
  panel.querySelector('.what').textContent = explanationText(prediction, model);
  drawHighlight(panel.querySelector('.highlight'), text, prediction.tokens, prediction.tokens.map((t) => t.weight));
  panel.dataset.resultId = String(sent.round);
}

// ---------------------------------------------------------------- requests
function requestRound() {
  if (inFlight > 0) {
    pending = true;  // sent as soon as the current round is answered
    return;
  }
  if (view === 'study' || view === 'translate' || !models.length) return;
  round += 1;
  sent = { round, text: review.value, inputAt: lastInputAt || performance.now() };
  const targets = view === 'compare' ? models : [modelSelect.value];
  compareResults.clear();
  for (const model of targets) {
    inFlight += 1;
    worker.postMessage({ type: 'classify', id: round, model, text: sent.text });
    if (view === 'compare' && model === 'transformer') {
      inFlight += 1;
      worker.postMessage({ type: 'selfAttention', id: round, model, text: sent.text,
        layer: transformerChoice.layer, head: transformerChoice.head });
    }
  }
}

function answered() {
  inFlight -= 1;
  if (inFlight === 0 && pending) {
    pending = false;
    requestRound();
  }
}

function onMessage({ data }) {
  if (data.type === 'ready') {
    models = data.models;
    for (const model of models) modelSelect.append(new Option(label(model), model));
    for (const option of modelSelect.options) {
      const info = infos.get(option.value);
      if (info?.testAccuracy != null) option.textContent = `${label(option.value)} — ${percent(info.testAccuracy)}`;
    }
    modelSelect.value = data.defaultModel;
    if (infos.has(data.defaultModel)) $('model-info').textContent = describeModel(infos.get(data.defaultModel));
    modelSelect.disabled = false;
    review.disabled = false;
    setStatus('Ready. Start typing, or pick an example.', 'ready');
    if (review.value) requestRound();
  } else if (data.type === 'model') {
    infos.set(data.model, data.info);
    const option = [...modelSelect.options].find((o) => o.value === data.model);
    if (option && data.info.testAccuracy != null) option.textContent = `${label(data.model)} — ${percent(data.info.testAccuracy)}`;
    if (data.model === modelSelect.value) $('model-info').textContent = describeModel(data.info);
    if (data.model === 'transformer') document.querySelector('.compare-panel[data-model="transformer"] .controls')
      ?.replaceWith(transformerControls());
  } else if (data.type === 'error') {
    setStatus(data.message, 'error');
    if (data.id !== undefined) answered();
    else if (data.model === undefined) review.disabled = true;  // the engine itself failed
  } else if (data.type === 'result') {
    if (data.id === round) {
      if (view === 'classify' && data.model === modelSelect.value) renderClassify(sent.text, data.result, data.milliseconds);
      if (view === 'compare') {
        const early = compareResults.get(data.model)?.pendingWeights;
        const prediction = early ? withSelfAttention(data.result, early) : data.result;
        compareResults.set(data.model, prediction);
        renderCompare(data.model, sent.text, prediction);
      }
      if (document.body.dataset.state === 'loading-model') setStatus('Ready.', 'ready');
    }
    answered();
  } else if (data.type === 'selfAttention') {
    if (data.id === round && view === 'compare') {
      const stored = compareResults.get(data.model);
      if (stored) {
        const updated = withSelfAttention(stored, data);
        compareResults.set(data.model, updated);
        renderCompare(data.model, sent.text, updated);
      } else {
        compareResults.set(data.model, { pendingWeights: data });
      }
    }
    answered();
  }
}

// ---------------------------------------------------------------- Study view
let studyLoaded = false;
async function loadStudy() {
  if (studyLoaded) return;
  studyLoaded = true;
  loadTranslationStudy();
  const statusNode = $('study-status');
  let rows;
  try {
    const response = await fetch(new URL('./dist/study/results.json', import.meta.url));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    rows = await response.json();
  } catch (error) {
    statusNode.textContent = `The study's results could not be loaded (${error.message}): run tools/study to make them.`;
    return;
  }
  const body = $('study-table').querySelector('tbody');
  const order = ['lstm', 'cnn', 'bilstm-attention', 'gru-attention', 'transformer'];
  rows.sort((a, b) => order.indexOf(a.model) - order.indexOf(b.model) || b.protocol.localeCompare(a.protocol));
  for (const row of rows) {
    const tr = document.createElement('tr');
    const cells = [label(row.model), row.protocol === 'seed' ? 'seed tutorial’s' : 'ours (shipped)', percent(row.test_accuracy, 2),
      row.seed_tutorial_accuracy == null ? '' : percent(row.seed_tutorial_accuracy, 2), row.test_loss.toFixed(4),
      Number(row.parameters).toLocaleString('en'), `${Math.round(row.training_seconds)} s`, String(Math.round(row.training_reviews_per_second))];
    cells.forEach((text, i) => {
      const cell = document.createElement(i === 0 ? 'th' : 'td');
      if (i === 0) cell.scope = 'row';
      cell.textContent = text;
      tr.append(cell);
    });
    body.append(tr);
  }
  $('study-table').hidden = false;
  statusNode.textContent = 'IMDB official test set (25,000 reviews). Seed protocol: 200 tokens, Adam 1e-3, batch 128, 5 epochs; '
    + 'ours: the shipped models, whole reviews. The figures below are drawn from the same results.json with Vega-Lite.';
  const figures = $('study-figures');
  for (const protocol of rows.some((r) => r.protocol === 'seed') ? ['seed', 'best'] : ['best']) {
    for (const [field, title] of [['train_accuracy', 'Training accuracy'], ['validation_accuracy', 'Validation accuracy'],
      ['train_loss', 'Training loss'], ['validation_loss', 'Validation loss']]) {
      const img = document.createElement('img');
      img.src = new URL(`./dist/study/${protocol}-${field}.svg`, import.meta.url).href;
      img.alt = `${title} per epoch for every model (${protocol === 'seed' ? 'seed protocol' : 'our settings'})`;
      img.loading = 'lazy';
      figures.append(img);
    }
  }
}

async function loadTranslationStudy() {
  const statusNode = $('translation-study-status');
  let rows;
  try {
    const response = await fetch(new URL('./dist/study/translation/results.json', import.meta.url));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    rows = await response.json();
  } catch (error) {
    statusNode.textContent = `The translation study could not be loaded (${error.message}): run tools/translation-study to make it.`;
    return;
  }
  const table = $('translation-study-table');
  const buckets = rows[0]?.test_greedy.by_source_length.map((b) => b.tokens) ?? [];
  const headRow = document.createElement('tr');
  for (const text of ['decoder', 'test BLEU (greedy)', 'beam 5', ...buckets.map((w) => `${w} tokens`), 'parameters']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    headRow.append(th);
  }
  table.querySelector('thead').replaceChildren(headRow);
  const body = table.querySelector('tbody');
  for (const row of rows) {
    const tr = document.createElement('tr');
    const cells = [row.label, row.test_greedy.bleu.toFixed(2), row.test_beam.bleu.toFixed(2),
      ...row.test_greedy.by_source_length.map((b) => b.bleu.toFixed(2)), Number(row.parameters).toLocaleString('en')];
    cells.forEach((text, i) => {
      const cell = document.createElement(i === 0 ? 'th' : 'td');
      if (i === 0) cell.scope = 'row';
      cell.textContent = text;
      tr.append(cell);
    });
    body.append(tr);
  }
  table.hidden = false;
  const counts = rows[0]?.test_greedy.by_source_length.map((b) => `${b.tokens} tokens: ${b.sentences}`).join(', ');
  statusNode.textContent = `Corpus BLEU-4 against all French translations of each of the ${rows[0]?.test_greedy.sentences ?? 0} `
    + `distinct English test sentences (per length bucket: ${counts}). Pairs from Tatoeba (tatoeba.org), CC-BY 2.0 FR.`;
  for (const [file, alt] of [['bleu-by-length', 'Test BLEU by English sentence length for each decoder'],
    ['validation-bleu', 'Validation BLEU per epoch for each decoder']]) {
    const img = document.createElement('img');
    img.src = new URL(`./dist/study/translation/${file}.svg`, import.meta.url).href;
    img.alt = alt;
    img.loading = 'lazy';
    $('translation-study-figures').append(img);
  }
}

// ---------------------------------------------------------------- set-up
function selectView(name) {
  view = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    button.setAttribute('aria-selected', String(tab === name));
    button.tabIndex = tab === name ? 0 : -1;
    $(`view-${tab}`).hidden = tab !== name;
  }
  const ownInput = name === 'study' || name === 'translate' || name === 'train';  // views without the review box
  $('input').hidden = ownInput;
  // The classifier's status line speaks of reviews; other views keep it only for errors.
  status.hidden = ownInput && document.body.dataset.state !== 'error';
  $('model-info').hidden = name === 'translate' || name === 'train';  // the classifier's
  if (name === 'study') loadStudy();
  else if (name === 'translate') showTranslate();
  else if (name === 'train') showTrain({ useModel: useTrainedModel });
  else if (review.value) requestRound();
}

// A model trained in the Train view joins the Classify view's selector (it is not shipped, so
// Compare keeps to the shipped models).
function useTrainedModel(name, title, bytes) {
  LABELS[name] = title;
  let option = [...modelSelect.options].find((o) => o.value === name);
  if (!option) {
    option = new Option(title, name);
    modelSelect.append(option);
  }
  option.textContent = title;
  worker.postMessage({ type: 'addModel', model: name, bytes }, [bytes.buffer]);
  modelSelect.value = name;
  selectView('classify');
  $('tab-classify').focus();
}

function start() {
  const examples = document.querySelector('.examples');
  for (const example of EXAMPLES) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = example.name;
    button.addEventListener('click', () => {
      lastInputAt = performance.now();
      review.value = example.text;
      requestRound();
      review.focus();
    });
    examples.append(button);
  }
  for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => selectView(tab));
  $('tab-classify').parentElement.addEventListener('keydown', (event) => {  // arrow keys move between tabs
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const next = TABS[(TABS.indexOf(view) + (event.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length];
    selectView(next);
    $(`tab-${next}`).focus();
  });
  const highlight = $('highlight');
  highlight.addEventListener('mouseover', (event) => {
    if (event.target.classList?.contains('token')) showTokenDetail(event.target);
  });
  highlight.addEventListener('focusin', (event) => {
    if (event.target.classList?.contains('token')) showTokenDetail(event.target);
  });
  review.addEventListener('input', () => {
    lastInputAt = performance.now();
    requestRound();
  });
  modelSelect.addEventListener('change', () => {
    const info = infos.get(modelSelect.value);
    $('model-info').textContent = info ? describeModel(info) : '';
    if (!info) setStatus(`Loading the model ${label(modelSelect.value)}…`, 'loading-model');
    requestRound();
  });

  worker = startWorker(new URL('./worker.js', import.meta.url), 'engine', onMessage, (message) => setStatus(message, 'error'));
}

start();
