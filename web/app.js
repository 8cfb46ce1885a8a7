// The demo page: talks to the engine in a worker, draws the prediction and the attention
// shading over the visitor's own text. The visitor's text is only ever inserted as text
// nodes (textContent / createTextNode), never as HTML.
import { EXAMPLES } from './examples.js';

const DEBOUNCE_MS = 50;
const $ = (id) => document.getElementById(id);
const review = $('review');
const status = $('status');
const result = $('result');
const highlight = $('highlight');
const tokenDetail = $('token-detail');

let worker;
let latestId = 0;
const sentTexts = new Map();  // request id → the exact text classified (offsets refer to it)
let lastInputAt = 0;
let inFlight = false;  // at most one request in the worker: long reviews never queue stale work
let pending = false;
let debounceTimer;
let lastTokens = [];

function setStatus(text, kind) {
  status.textContent = text;
  status.className = `status ${kind}`;
  document.body.dataset.state = kind;
}

function percent(value, digits = 1) {
  return `${(100 * value).toFixed(digits)} %`;
}

function describeModel(info) {
  const accuracy = info.testAccuracy == null ? 'accuracy not recorded'
    : `IMDB test accuracy ${percent(info.testAccuracy)} on ${Number(info.testCount ?? 0).toLocaleString('en')} reviews`;
  return `Model: ${info.architecture} (${info.description}; `
    + `${Number(info.parameters).toLocaleString('en')} parameters, vocabulary ${info.vocabularySize.toLocaleString('en')}). ${accuracy}.`;
}

function requestClassification(immediately = false) {
  clearTimeout(debounceTimer);
  const send = () => {
    if (inFlight) {
      pending = true;  // sent as soon as the current result arrives
      return;
    }
    inFlight = true;
    latestId += 1;
    sentTexts.clear();
    sentTexts.set(latestId, { text: review.value, inputAt: lastInputAt || performance.now() });
    worker.postMessage({ type: 'classify', id: latestId, text: review.value });
  };
  if (immediately) send();
  else debounceTimer = setTimeout(send, DEBOUNCE_MS);
}

function render(text, prediction, id, engineMilliseconds, inputAt) {
  const positive = prediction.label === 'positive';
  const label = $('label');
  label.textContent = positive ? 'Positive' : 'Negative';
  label.className = `label ${prediction.label}`;
  $('bar-fill').style.width = percent(prediction.probability, 2).replace(' ', '');
  $('probability').textContent = `${percent(prediction.probability)} positive`;

  const tokens = prediction.tokens;
  lastTokens = tokens;
  const maxWeight = tokens.reduce((m, t) => Math.max(m, t.weight), 0);
  // Shade ∝ weight / the review's largest weight; the legend states that largest weight.
  $('legend-max').textContent = tokens.length ? `${maxWeight.toFixed(4)} (the largest here)` : 'largest';
  const order = tokens.map((t, i) => i).sort((a, b) => tokens[b].weight - tokens[a].weight);
  const rank = new Array(tokens.length);
  order.forEach((tokenIndex, position) => { rank[tokenIndex] = position + 1; });

  const fragment = document.createDocumentFragment();
  let cursor = 0;
  tokens.forEach((token, index) => {
    if (token.start > cursor) fragment.append(document.createTextNode(text.slice(cursor, token.start)));
    const span = document.createElement('span');
    span.className = token.oov ? 'token oov' : 'token';
    span.textContent = text.slice(token.start, token.end);
    const strength = maxWeight > 0 ? token.weight / maxWeight : 0;
    span.style.backgroundColor = `rgba(var(--accent), ${(0.85 * strength).toFixed(3)})`;
    span.tabIndex = 0;
    span.dataset.index = String(index);
    span.dataset.start = String(token.start);
    span.dataset.end = String(token.end);
    span.dataset.weight = String(token.weight);
    span.dataset.rank = String(rank[index]);
    span.setAttribute('aria-label', `${span.textContent}: attention ${token.weight.toFixed(4)}`
      + `${token.oov ? ', unknown word' : ''}`);
    fragment.append(span);
    cursor = token.end;
  });
  if (cursor < text.length) fragment.append(document.createTextNode(text.slice(cursor)));
  highlight.replaceChildren(fragment);
  result.hidden = false;
  result.dataset.resultId = String(id);
  // Measured here so tests and visitors see the same figure: last keystroke → highlight drawn.
  result.dataset.engineMs = engineMilliseconds.toFixed(2);
  result.dataset.latencyMs = (performance.now() - inputAt).toFixed(1);
  $('timing').textContent = `${tokens.length.toLocaleString('en')} tokens, classified in ${engineMilliseconds.toFixed(1)} ms`;
  tokenDetail.textContent = tokens.length ? 'Hover over or focus (Tab) a word to see its weight.'
    : 'No words yet: the prediction comes from the model’s bias alone.';
}

function showTokenDetail(span) {
  const token = lastTokens[Number(span.dataset.index)];
  if (!token) return;
  tokenDetail.textContent = `“${span.textContent}” — attention weight ${token.weight.toFixed(4)} `
    + `(${percent(token.weight, 2)} of the total), rank ${span.dataset.rank} of ${lastTokens.length}`
    + `${token.oov ? '; not in the model’s vocabulary, read as <unk>' : ''}.`;
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
      requestClassification(true);
      review.focus();
    });
    examples.append(button);
  }
  highlight.addEventListener('mouseover', (event) => {
    if (event.target.classList?.contains('token')) showTokenDetail(event.target);
  });
  highlight.addEventListener('focusin', (event) => {
    if (event.target.classList?.contains('token')) showTokenDetail(event.target);
  });
  review.addEventListener('input', () => {
    lastInputAt = performance.now();
    requestClassification();
  });

  try {
    worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  } catch (error) {
    setStatus(`This browser cannot start the engine: ${error.message}`, 'error');
    return;
  }
  worker.addEventListener('error', (event) => {
    setStatus(`The engine failed to start: ${event.message || 'the worker script could not be loaded'}.`, 'error');
  });
  worker.addEventListener('message', ({ data }) => {
    if (data.type === 'ready') {
      setStatus('Ready. Start typing, or pick an example.', 'ready');
      $('model-info').textContent = describeModel(data.info);
      review.disabled = false;
      if (review.value) requestClassification(true);
    } else if (data.type === 'error') {
      inFlight = false;
      setStatus(data.message, 'error');
    } else if (data.type === 'result') {
      inFlight = false;
      if (data.id === latestId) {
        const sent = sentTexts.get(data.id);
        render(sent.text, data.result, data.id, data.milliseconds, sent.inputAt);
      }
      if (pending) {
        pending = false;
        requestClassification(true);
      }
    }
  });
}

start();
