// The Translate view: an English sentence → the attention translator's French, its
// alignment heatmap (rows: French tokens, columns: English tokens), and the no-attention
// baseline's output beside it. The visitor's text only ever enters the page as text nodes.
import { startWorker } from './common.js';

const DEBOUNCE_MS = 80;
const MAIN = 'translate-eng-fra';
const BASELINE = 'translate-eng-fra-noattn';
const EXAMPLES = [
  'I am cold.',
  'She is reading a book in the garden.',
  'We will go to the beach tomorrow if it does not rain.',
  'Tom has never seen a kangaroo.',
  'Can you tell me where the station is?',
];

const $ = (id) => document.getElementById(id);
let worker;
let started = false;
let ready = false;
let targets = [MAIN];  // the translators this deployment has (from the worker's 'ready')
const infos = new Map();
let round = 0;
let inFlight = 0;
let pending = false;
let sent = null;  // {round, text, beam, inputAt}
let lastInputAt = 0;
let debounceTimer;
let current = null;  // the main translator's latest result
let selectedRow = -1;

function setStatus(text, kind) {
  const node = $('translate-status');
  node.textContent = text;
  node.className = `status ${kind}`;
  $('view-translate').dataset.state = kind;
}

const beamWidth = () => ($('translate-beam').checked ? 5 : 1);

function request(immediately = false) {
  clearTimeout(debounceTimer);
  const send = () => {
    if (!ready) return;
    if (inFlight > 0) {
      pending = true;
      return;
    }
    round += 1;
    sent = { round, text: $('sentence').value, beam: beamWidth(), inputAt: lastInputAt || performance.now() };
    for (const model of targets) {
      inFlight += 1;
      worker.postMessage({ type: 'translate', id: round, model, text: sent.text, beam: sent.beam });
    }
  };
  if (immediately) send();
  else debounceTimer = setTimeout(send, DEBOUNCE_MS);
}

function answered() {
  inFlight -= 1;
  if (inFlight === 0 && pending) {
    pending = false;
    request(true);
  }
}

function bleuText(info) {
  if (!info || info.testBleu == null) return 'test BLEU not recorded';
  const beam = info.testBleuBeam == null ? '' : `, ${info.testBleuBeam.toFixed(1)} with beam search`;
  return `Tatoeba test BLEU ${info.testBleu.toFixed(1)} greedy${beam}`;
}

function describe(info) {
  return `${info.description}; ${Number(info.parameters).toLocaleString('en')} parameters; ${bleuText(info)}.`;
}

// The English sentence with each token shaded by the selected French token's attention.
function drawSource(text, result) {
  const container = $('source-line');
  const weights = selectedRow >= 0 && result.attention[selectedRow] ? result.attention[selectedRow] : null;
  const fragment = document.createDocumentFragment();
  let cursor = 0;
  result.sourceTokens.forEach((token, j) => {
    if (token.start > cursor) fragment.append(document.createTextNode(text.slice(cursor, token.start)));
    const span = document.createElement('span');
    span.className = token.oov ? 'token oov' : 'token';
    span.textContent = text.slice(token.start, token.end);
    const w = weights ? weights[j] : 0;
    span.style.backgroundColor = `rgba(var(--accent), ${(0.85 * w).toFixed(3)})`;
    span.dataset.weight = weights ? String(w) : '';
    if (token.oov) span.title = 'Not in the translator’s English vocabulary (read as <unk>)';
    fragment.append(span);
    cursor = token.end;
  });
  if (cursor < text.length) fragment.append(document.createTextNode(text.slice(cursor)));
  container.replaceChildren(fragment);
  $('source-caption').textContent = weights
    ? `What “${result.targetTokens[selectedRow]}” attended to (its row of the heatmap):`
    : 'Click a French word (a row of the heatmap) to see the English words it attended to.';
}

function selectRow(row) {
  selectedRow = row;
  if (!current) return;
  for (const th of $('alignment').querySelectorAll('tbody th')) th.classList.toggle('selected', Number(th.dataset.row) === row);
  drawSource(current.text, current.result);
}

function drawHeatmap(result) {
  const table = $('alignment');
  const head = document.createElement('thead');
  const headRow = document.createElement('tr');
  const corner = document.createElement('td');
  corner.className = 'corner';
  corner.textContent = 'French ↓ English →';
  headRow.append(corner);
  result.sourceTokens.forEach((token) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = token.text;
    if (token.oov) {
      th.className = 'oov';
      th.title = 'unknown word: not in the translator’s English vocabulary';
    }
    headRow.append(th);
  });
  head.append(headRow);
  const body = document.createElement('tbody');
  result.attention.forEach((row, i) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.dataset.row = String(i);
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = result.targetTokens[i];
    button.addEventListener('click', () => selectRow(i));
    th.append(button);
    tr.append(th);
    row.forEach((weight, j) => {
      const td = document.createElement('td');
      td.style.backgroundColor = `rgba(var(--accent), ${(0.9 * weight).toFixed(3)})`;
      td.dataset.weight = weight.toFixed(4);
      const description = `“${result.targetTokens[i]}” → “${result.sourceTokens[j].text}”: ${weight.toFixed(3)}`;
      td.title = description;
      td.setAttribute('aria-label', description);
      tr.append(td);
    });
    body.append(tr);
  });
  table.replaceChildren(head, body);
  table.hidden = result.attention.length === 0;
}

function render(model, result, milliseconds) {
  if (model === BASELINE) {
    $('baseline-output').textContent = result.translation || '—';
    $('baseline-output').dataset.resultId = String(sent.round);
    return;
  }
  current = { text: sent.text, result };
  if (selectedRow >= result.targetTokens.length) selectedRow = -1;
  const output = $('translation');
  output.textContent = result.translation || (result.sourceTokens.length ? '(empty translation)' : '—');
  output.dataset.resultId = String(sent.round);
  output.dataset.latencyMs = (performance.now() - sent.inputAt).toFixed(1);
  $('translate-timing').textContent = result.sourceTokens.length
    ? `${result.sourceTokens.length} English → ${result.targetTokens.length} French tokens, `
      + `${sent.beam === 1 ? 'greedy' : `beam search (width ${sent.beam})`}, ${milliseconds.toFixed(1)} ms`
      + `${result.truncated ? '; only the first 200 tokens were read' : ''}`
    : '';
  const unknown = result.sourceTokens.filter((t) => t.oov).map((t) => t.text);
  $('translate-oov').textContent = unknown.length
    ? `Unknown to the translator (shown dotted, read as <unk>): ${unknown.join(', ')}.` : '';
  drawHeatmap(result);
  drawSource(sent.text, result);
  $('translate-result').hidden = !result.sourceTokens.length;
}

function onMessage({ data }) {
  if (data.type === 'ready') {
    ready = true;
    targets = [MAIN, BASELINE].filter((name) => data.translators.includes(name));
    for (const node of document.querySelectorAll('.baseline-part')) node.hidden = !targets.includes(BASELINE);
    $('sentence').disabled = false;
    setStatus('Ready. Type an English sentence.', 'ready');
    request(true);
  } else if (data.type === 'model') {
    infos.set(data.model, data.info);
    if (data.model === MAIN) {
      $('translate-info').textContent = `With attention: ${describe(data.info)}`;
      const kind = { additive: 'additive, Bahdanau et al.', dot: 'dot product, Luong et al.', general: 'general, Luong et al.' }[data.info.attention];
      if (kind) $('translation-heading').textContent = `French, with attention (${kind})`;
    }
    if (data.model === BASELINE) $('baseline-info').textContent = `Without attention: ${describe(data.info)}`;
    if (data.info.credit) $('translate-credit').textContent = `Trained on English–French sentence pairs from ${data.info.credit}.`;
  } else if (data.type === 'error') {
    setStatus(data.message, 'error');
    if (data.id !== undefined) answered();
    else $('sentence').disabled = true;
  } else if (data.type === 'result') {
    if (data.id === round) {
      render(data.model, data.result, data.milliseconds);
      if ($('view-translate').dataset.state !== 'error') setStatus('Ready.', 'ready');
    }
    answered();
  }
}

// Called when the view opens; starts the translator worker the first time.
export function showTranslate() {
  if (started) {
    if (ready) request(true);
    return;
  }
  started = true;
  const examples = $('translate-examples');
  for (const text of EXAMPLES) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = text;
    button.addEventListener('click', () => {
      lastInputAt = performance.now();
      $('sentence').value = text;
      request(true);
      $('sentence').focus();
    });
    examples.append(button);
  }
  $('sentence').addEventListener('input', () => {
    lastInputAt = performance.now();
    request();
  });
  $('translate-beam').addEventListener('change', () => request(true));
  setStatus('Loading the translators…', 'loading');
  worker = startWorker(new URL('./translate-worker.js', import.meta.url), 'translator', onMessage,
    (message) => setStatus(message, 'error'));
}
