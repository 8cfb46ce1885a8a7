// The demo page, built from the embeddable elements: the Classify view is an <attn-lens>, the
// Compare view an <attn-lens compare="…">, the Translate view an <attn-lens-translate>; all three
// share the one engine worker of dist/attn-lens.js. This file only wires the page around them:
// tabs, the model picker, example reviews, the Study view, and models trained in the Train view.
import { EXAMPLES } from './examples.js';
import { engine, registerModel } from './dist/attn-lens.js';
import { grouped, modelTitle, percent } from './dist/attn-lens-view.js';
import { showTrain } from './train.js';
import { explainText, showExplain } from './explain.js';
import { tableRow } from './table.js';

const TABS = ['classify', 'compare', 'explain', 'translate', 'train', 'study'];
const TRANSLATE_EXAMPLES = [
  'I am cold.',
  'She is reading a book in the garden.',
  'We will go to the beach tomorrow if it does not rain.',
  'Tom has never seen a kangaroo.',
  'Can you tell me where the station is?',
];
const $ = (id) => document.getElementById(id);
const classifier = $('classifier');
const comparer = $('comparer');
const translator = $('translator');
const status = $('status');
const modelSelect = $('model');
let view = 'classify';

// The page's own status line (the elements show theirs): only for what no element can say.
function setStatus(text, kind) {
  status.textContent = text;
  status.className = `status ${kind}`;
  status.hidden = !text;
  document.body.dataset.state = kind;
}

function describeModel(info) {
  const accuracy = info.testAccuracy == null
    ? (info.validationAccuracy == null ? 'accuracy not recorded' : `validation accuracy ${percent(info.validationAccuracy)} (trained in this browser)`)
    : `IMDB test accuracy ${percent(info.testAccuracy)} on ${grouped(info.testCount ?? 0)} reviews`;
  return `Model: ${info.architecture} (${info.description}; `
    + `${grouped(info.parameters)} parameters, vocabulary ${grouped(info.vocabularySize)}). ${accuracy}.`;
}

// ---------------------------------------------------------------- the classifier's state, for the page
classifier.addEventListener('attn-lens-ready', ({ detail }) => {
  const [{ name, info }] = detail.models;
  $('model-info').textContent = describeModel(info);
  const option = [...modelSelect.options].find((o) => o.value === name);
  if (option && info.testAccuracy != null) option.textContent = `${modelTitle(name)} — ${percent(info.testAccuracy)}`;
  modelSelect.disabled = false;
  setStatus('', 'ready');
});
classifier.addEventListener('attn-lens-result', () => {
  if (document.body.dataset.state !== 'ready') setStatus('', 'ready');
});
// The element shows its own errors; the page only records the state.
classifier.addEventListener('attn-lens-error', () => {
  setStatus('', 'error');
  modelSelect.disabled = !modelSelect.options.length;  // another model may load where this one did not
});

// ---------------------------------------------------------------- Study view
let studyLoaded = false;
async function loadStudy() {
  if (studyLoaded) return;
  studyLoaded = true;
  loadTranslationStudy();
  loadFaithfulnessStudy();
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
  const BASELINE_TITLES = { ngram: 'n-gram baseline (words, bigrams)', 'ngram-trigram': 'n-gram baseline (up to trigrams, regularised)',
    'ngram-trigram-200k': 'n-gram baseline (up to trigrams, regularised, 200,000 features)' };
  const order = ['ngram', 'ngram-trigram', 'ngram-trigram-200k', 'lstm', 'cnn', 'bilstm-attention', 'gru-attention', 'gru-attention-ngrams', 'transformer'];
  const protocols = ['seed', 'best', 'semi-supervised', 'ngram-path'];
  const protocolNames = { seed: 'seed tutorial’s', best: 'ours, supervised (teacher)', 'semi-supervised': 'ours, semi-supervised (shipped)',
    'ngram-path': 'ours, semi-supervised + n-gram path (joined)' };
  rows.sort((a, b) => order.indexOf(a.model) - order.indexOf(b.model) || protocols.indexOf(a.protocol) - protocols.indexOf(b.protocol));
  for (const row of rows) {
    const cells = [BASELINE_TITLES[row.model] ?? modelTitle(row.model), protocolNames[row.protocol] ?? row.protocol,
      percent(row.test_accuracy, 2), row.short_review_accuracy == null ? '' : percent(row.short_review_accuracy, 2),
      row.seed_tutorial_accuracy == null ? '' : percent(row.seed_tutorial_accuracy, 2), row.test_loss.toFixed(4),
      grouped(row.parameters), `${Math.round(row.training_seconds)} s`,
      row.training_reviews_per_second == null ? '' : String(Math.round(row.training_reviews_per_second))];
    body.append(tableRow(cells));
  }
  $('study-table').hidden = false;
  statusNode.textContent = 'IMDB official test set (25,000 reviews). Seed protocol: 200 tokens, Adam 1e-3, batch 128, 5 epochs. '
    + 'Ours, whole reviews: supervised (word2vec on the training and unlabelled reviews; these are the teachers), and '
    + 'semi-supervised (each architecture again, on the gold labels and the teachers’ soft labels for the 50,000 unlabelled '
    + 'reviews; these are the shipped models), and that model joined with the regularised trigram baseline (one logit, '
    + 'the mean of the two: the recipe that won; its training time is the network’s and the n-gram model’s). '
    + 'Short reviews: one sentence from each strongly rated test review. '
    + 'The figures below (per epoch; a joined model trains no epochs of its own) are drawn from the same results.json with Vega-Lite.';
  const figures = $('study-figures');
  for (const protocol of protocols.filter((p) => rows.some((r) => r.protocol === p && r.epochs.length > 0))) {
    for (const [field, title] of [['train_accuracy', 'Training accuracy'], ['validation_accuracy', 'Validation accuracy'],
      ['train_loss', 'Training loss'], ['validation_loss', 'Validation loss']]) {
      const img = document.createElement('img');
      img.src = new URL(`./dist/study/${protocol}-${field}.svg`, import.meta.url).href;
      img.alt = `${title} per epoch for every model (${{ seed: 'seed protocol', best: 'supervised', 'semi-supervised': 'semi-supervised' }[protocol]})`;
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
    const cells = [row.label, row.test_greedy.bleu.toFixed(2), row.test_beam.bleu.toFixed(2),
      ...row.test_greedy.by_source_length.map((b) => b.bleu.toFixed(2)), grouped(row.parameters)];
    body.append(tableRow(cells));
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

async function loadFaithfulnessStudy() {
  const statusNode = $('faithfulness-study-status');
  let study;
  try {
    const response = await fetch(new URL('./dist/study/faithfulness/summary.json', import.meta.url));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    study = await response.json();
  } catch (error) {
    statusNode.textContent = `The faithfulness study could not be loaded (${error.message}): run tools/faithfulness-study to make it.`;
    return;
  }
  const fixed = (v, digits = 3) => (v == null ? '—' : v.toFixed(digits));
  const body = $('faithfulness-study-table').querySelector('tbody');
  const order = ['lstm', 'cnn', 'bilstm-attention', 'gru-attention', 'transformer'];  // the study's own order; others after
  const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
  for (const [name, model] of Object.entries(study.models).sort(([a], [b]) => rank(a) - rank(b))) {
    for (const [method, m] of Object.entries(model.methods)) {
      const cells = [name, method, `${fixed(m.aopc_comprehensiveness)} (${fixed(m.random_aopc_comprehensiveness)})`,
        `${fixed(m.aopc_sufficiency)} (${fixed(m.random_aopc_sufficiency)})`,
        `${fixed(m.kendall_tau_abs_loo_mean, 2)} ± ${fixed(m.kendall_tau_abs_loo_sd, 2)}`, `${(100 * m.decision_flip_top1_rate).toFixed(1)} %`];
      body.append(tableRow(cells, 2));
    }
  }
  $('faithfulness-study-table').hidden = false;
  const jw = study.published.jainWallace;
  statusNode.textContent = `${study.sample}. Removing a token deletes it. In brackets: a random ordering of the same review. `
    + `Published for comparison — ${jw.source}: τ between attention and |leave-one-out| ${jw.tauLeaveOneOut.mean} ± ${jw.tauLeaveOneOut.sd}, `
    + `and |gradients| ${jw.tauGradient.mean} ± ${jw.tauGradient.sd}.`;
  // The reading is Markdown with **bold** model names; shown as text, the names set in <strong>.
  const reading = $('faithfulness-study-reading');
  for (const line of study.reading) {
    const p = document.createElement('p');
    for (const [i, part] of line.split('**').entries()) {
      if (i % 2) {
        const strong = document.createElement('strong');
        strong.textContent = part;
        p.append(strong);
      } else {
        p.append(part);
      }
    }
    reading.append(p);
  }
  for (const [file, alt] of [['aopc', 'AOPC comprehensiveness of each method for each model, beside a random ordering'],
    ['kendall-tau', 'Kendall tau between each method and leave-one-out, per review, for each model'],
    ['deletion-curves', 'Mean probability of the predicted class as tokens are deleted in each method\'s rank order'],
    ['adversarial-jsd', 'Jensen-Shannon divergence of adversarial attention from the model\'s, per review']]) {
    const img = document.createElement('img');
    img.src = new URL(`./dist/study/faithfulness/${file}.svg`, import.meta.url).href;
    img.alt = alt;
    img.loading = 'lazy';
    $('faithfulness-study-figures').append(img);
  }
}

// ---------------------------------------------------------------- views
// The review follows the visitor from Classify to Compare and back.
const reviewView = () => (view === 'compare' ? comparer : view === 'explain' ? explainText : classifier);

function selectView(name) {
  const from = reviewView();
  view = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    button.setAttribute('aria-selected', String(tab === name));
    button.tabIndex = tab === name ? 0 : -1;
    $(`view-${tab}`).hidden = tab !== name;
  }
  const reviews = name === 'classify' || name === 'compare' || name === 'explain';
  $('review-tools').hidden = !reviews;
  $('review-tools').querySelector('.model-choice').hidden = name !== 'classify';
  $('model-info').hidden = name !== 'classify' && name !== 'compare';  // the classifier's
  if (name === 'explain') {
    // Explain keeps its own text once opened (its metrics cost seconds); it starts from the review typed so far.
    engine.manifest().then(({ models }) => showExplain({ initialText: from === explainText ? '' : from.text, models }))
      .catch((error) => setStatus(error.message ?? String(error), 'error'));
  } else if (reviews && reviewView() !== from && reviewView().text !== from.text) reviewView().text = from.text;
  if (name === 'study') loadStudy();
  else if (name === 'train') showTrain({ useModel: useTrainedModel });
}

// A model trained in the Train view joins the Classify view's picker (it is not shipped, so
// Compare keeps to the shipped models).
function useTrainedModel(name, title, bytes) {
  registerModel(name, bytes, { title });
  let option = [...modelSelect.options].find((o) => o.value === name);
  if (!option) {
    option = new Option(title, name);
    modelSelect.append(option);
  }
  option.textContent = title;
  modelSelect.value = name;
  classifier.model = name;
  selectView('classify');
  $('tab-classify').focus();
}

// A link made by an element's "Copy link" (#model=…&text=…, #compare=…&text=…, or
// #kind=translate&text=…) opens on what it showed.
function restoreFromLink(models, translators) {
  const params = new URLSearchParams(location.hash.slice(1));
  const text = params.get('text');
  if (text === null) return;
  if (params.get('kind') === 'translate') {
    // Only names the package ships (or "none" for the baseline); what the link leaves out is the default.
    for (const key of ['model', 'baseline']) {
      const name = params.get(key);
      if (translators.includes(name) || (key === 'baseline' && name === 'none')) translator.setAttribute(key, name);
      else translator.removeAttribute(key);
    }
    const beam = params.get('beam');
    translator.beam = /^(?:[1-9]|1[0-6])$/.test(beam ?? '') ? beam : '1';
    translator.text = text;
    selectView('translate');
    return;
  }
  const explanation = params.get('explanation');
  const compare = (params.get('compare') ?? '').split(/[\s,]+/).filter((m) => models.includes(m));
  if (compare.length) {
    comparer.compare = compare.join(' ');
    if (explanation) comparer.explanation = explanation;
    classifier.text = text;  // the text follows the visitor between the two views
    comparer.text = text;
    selectView('compare');
  } else {
    const model = params.get('model');
    if (models.includes(model)) {
      modelSelect.value = model;
      classifier.model = model;
    }
    if (explanation) classifier.explanation = explanation;
    classifier.text = text;
  }
}

async function start() {
  // The elements' "Copy link" points here, not at the package's embed.html.
  const here = new URL(location.href);
  here.hash = '';
  classifier.link = comparer.link = translator.link = here.href;
  const examples = document.querySelector('#review-tools .examples');
  for (const example of EXAMPLES) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = example.name;
    button.addEventListener('click', () => { reviewView().text = example.text; });
    examples.append(button);
  }
  const translateExamples = $('translate-examples');
  for (const text of TRANSLATE_EXAMPLES) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = text;
    button.addEventListener('click', () => { translator.text = text; });
    translateExamples.append(button);
  }
  for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => selectView(tab));
  $('tab-classify').parentElement.addEventListener('keydown', (event) => {  // arrow keys move between tabs
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const next = TABS[(TABS.indexOf(view) + (event.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length];
    selectView(next);
    $(`tab-${next}`).focus();
  });
  modelSelect.addEventListener('change', () => {
    $('model-info').textContent = '';
    classifier.model = modelSelect.value;
  });

  try {
    const { models: neural, baselines, translators } = await engine.manifest();
    if (!neural.length) throw new Error('The model list is empty');
    // The classical baseline (the n-gram model) comes last, in the picker and in Compare: the
    // model every neural one must beat, side by side with them.
    const models = [...neural, ...baselines];
    for (const model of models) modelSelect.append(new Option(modelTitle(model), model));
    modelSelect.value = models.includes(classifier.model) ? classifier.model : models[0];
    classifier.model = modelSelect.value;
    comparer.compare = models.join(' ');
    restoreFromLink(models, translators);
    window.addEventListener('hashchange', () => restoreFromLink(models, translators));
  } catch (error) {
    setStatus(error.message ?? String(error), 'error');
  }
}

setStatus('', 'loading');
start();
