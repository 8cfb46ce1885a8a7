// The page in headless Chromium (Debian's, driven by playwright-core; no browser download):
// it loads, classifies typed reviews, draws the highlight exactly over each token's
// offsets, shows hostile text as text, reports load failures, and leaves a screenshot.
// The page is built from the <attn-lens> elements: Playwright's CSS selectors reach into their
// (open) shadow roots, so '#classifier .highlight' is the highlight inside the Classify view's element.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ARTIFACTS, useSite } from './browser.mjs';
import { DIST, ROOT, TRANSLATOR, loadEngine, loadTranslateEngine } from './helpers.mjs';

const site = useSite();
const openPage = (t, options) => site.openPage(t, options);
const engine = await loadEngine();
// The page's default (README, "The page's default"): the BiGRU + attention with an n-gram path,
// whose highlight is each word's signed contribution to the logit.
const PAGE_MODEL = 'gru-attention-ngrams';
const model = engine.Model.fromBytes(new Uint8Array(fs.readFileSync(path.join(ROOT, 'models', `${PAGE_MODEL}.safetensors`))));

// Types into the Classify view's element and waits for its result for exactly that text.
async function typeAndWait(page, text, element = 'classifier') {
  await page.fill(`#${element} textarea`, text);
  await page.waitForFunction(({ id, expected }) => {
    const results = document.getElementById(id).results;
    return results.length > 0 && results.every((r) => r?.text === expected);
  }, { id: element, expected: text });
}
const ready = (page) => page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });

// The study's figures load lazily, near the viewport: bring each into view in turn and wait
// until it has loaded to a real image, so the test does not depend on the layout or the window.
async function figuresLoaded(page, container) {
  const images = page.locator(`${container} img`);
  const count = await images.count();
  for (let i = 0; i < count; i++) {
    await images.nth(i).scrollIntoViewIfNeeded();
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await images.nth(i).elementHandle());
  }
  return count;
}

// Every token span must hold exactly text.slice(start, end) of the model's tokens, and the
// highlight as a whole must reproduce the visitor's text character for character.
async function checkHighlight(page, text) {
  const spans = await page.$$eval('#classifier .highlight .token', (nodes) => nodes.map((n) => ({
    text: n.textContent, start: Number(n.dataset.start), end: Number(n.dataset.end), weight: Number(n.dataset.weight),
    oov: n.classList.contains('oov'),
  })));
  const expected = model.classify(text).tokens;
  assert.equal(spans.length, expected.length);
  spans.forEach((span, i) => {
    assert.equal(span.start, expected[i].start);
    assert.equal(span.end, expected[i].end);
    assert.equal(span.text, text.slice(expected[i].start, expected[i].end));
    // Chromium runs the relaxed-SIMD kernels, node here SIMD128: equal to float rounding (kernels.test.mjs).
    assert.ok(Math.abs(span.weight - expected[i].weight) < 1e-5 * Math.max(1, Math.abs(expected[i].weight)),
      `token ${i}: ${span.weight} against ${expected[i].weight}`);
    assert.equal(span.oov, expected[i].oov);
  });
  assert.equal(await page.textContent('#classifier .highlight'), text);
}

test('loads, classifies typed reviews and highlights every token at its offsets', async (t) => {
  const { page, problems } = await openPage(t);
  await ready(page);
  assert.match(await page.textContent('#model-info'), /IMDB test accuracy \d+\.\d %/);

  const positive = 'An absolute gem — funny, moving, and beautifully acted. I loved every minute. 😀';
  await typeAndWait(page, positive);
  assert.equal(await page.textContent('#classifier .label'), 'Positive');
  assert.ok(parseFloat(await page.textContent('#classifier .probability')) > 80);
  await checkHighlight(page, positive);

  const negative = 'Dreadful. The plot makes no sense, the acting is wooden and it is far too long. Avoid.';
  await typeAndWait(page, negative);
  assert.equal(await page.textContent('#classifier .label'), 'Negative');
  assert.ok(parseFloat(await page.textContent('#classifier .probability')) < 20);
  await checkHighlight(page, negative);
  // The words that weighed most, ranked, in words (not only in colour).
  assert.match(await page.textContent('#classifier .explanation'), /^Contribution: .*n-gram.*two colours/);
  assert.match(await page.textContent('#classifier .ranked'), /^Most evidence for the prediction: 1\. “[^”]+” \d\.\d+, 2\./);

  // Keyboard: the text is one tab stop; focusing a token shows its weight, arrow keys move on.
  await page.focus('#classifier .highlight .token >> nth=0');
  assert.match(await page.textContent('#classifier .detail'), /“Dreadful” — score -?\d+\.\d+ \((for|against) the prediction\)/);
  await page.keyboard.press('ArrowRight');
  assert.match(await page.textContent('#classifier .detail'), /^“\.” — score/);
  assert.deepEqual(await page.$$eval('#classifier .highlight .token', (nodes) => nodes.slice(0, 3).map((n) => n.tabIndex)), [-1, 0, -1]);
  assert.match(await page.getAttribute('#classifier .highlight .token >> nth=0', 'aria-label'),
    /^Dreadful: score -?[\d.e-]+, (for|against) the prediction, rank \d+ of \d+$/);

  // An example with a turn, then a long one; both classified whole.
  await page.click('text=Long review');
  await page.waitForFunction(() => document.getElementById('classifier').result?.tokens.length > 200);
  await checkHighlight(page, await page.inputValue('#classifier textarea'));
  await page.screenshot({ path: path.join(ARTIFACTS, 'page-long.png'), fullPage: true });

  // Typing fast into a long review: the page keeps up and ends on the final text.
  await page.click('#classifier textarea');
  await page.keyboard.press('End');
  await page.keyboard.type(' Truly great.', { delay: 5 });
  await page.waitForFunction(() => {
    const element = document.getElementById('classifier');
    return element.shadowRoot.querySelector('.highlight').textContent === element.shadowRoot.querySelector('textarea').value;
  });
  await checkHighlight(page, await page.inputValue('#classifier textarea'));

  await page.click('text=Turns around');
  await page.waitForFunction(() => document.getElementById('classifier').shadowRoot.querySelector('.highlight').textContent.startsWith('Slow at first'));
  await page.hover('#classifier .highlight .token >> nth=5');
  await page.screenshot({ path: path.join(ARTIFACTS, 'page.png') });
  assert.deepEqual(problems, []);
});

test('switching models, the Compare view and the Study view', async (t) => {
  const { page, problems } = await openPage(t);
  await ready(page);
  const { models, baselines } = JSON.parse(fs.readFileSync(path.join(DIST, 'models.json'), 'utf8'));
  assert.deepEqual(baselines, ['ngram']);  // the classical baseline ships beside the models
  const text = 'Slow at first, but ultimately deeply moving. A wonderful film.';
  await typeAndWait(page, text);

  // Another model, loaded on demand; its highlight still covers the text exactly.
  assert.ok(models.includes(PAGE_MODEL));
  const other = models.find((m) => m !== PAGE_MODEL);
  if (other) {
    await page.selectOption('#model', other);
    await page.waitForFunction((name) => document.getElementById('classifier').result?.model === name, other);
    await page.waitForFunction((name) => document.getElementById('model-info').textContent.includes(`Model: ${name}`), other);
    assert.equal(await page.textContent('#classifier .highlight'), text);
    assert.match(await page.textContent('#classifier .explanation'), /Attention weights|Gradient × input/);
  }

  // Compare: the review follows; one panel per model, each with a prediction and a full highlight.
  await page.click('#tab-compare');
  await page.waitForFunction(({ count, expected }) => {
    const results = document.getElementById('comparer').results;
    return results.length === count && results.every((r) => r?.text === expected);
  }, { count: models.length + baselines.length, expected: text });
  // The baseline is the last panel, after the neural models.
  assert.deepEqual(await page.locator('#comparer .panel').evaluateAll((panels) => panels.map((p) => p.dataset.model)),
    [...models, ...baselines]);
  assert.equal(await page.locator('#model option').last().textContent(), 'N-gram baseline');
  for (const model of [...models, ...baselines]) {
    const panel = page.locator(`#comparer .panel[data-model="${model}"]`);
    assert.match(await panel.locator('.probability').textContent(), /\d+\.\d % positive/);
    assert.equal(await panel.locator('.highlight').textContent(), text);
    assert.ok(await panel.locator('.token').count() > 5);
    const what = await panel.locator('.explanation').textContent();
    if (model === 'lstm' || model === 'cnn' || model === 'ngram') assert.match(what, /Gradient × input/);
    if (model === 'transformer') assert.match(what, /Self-attention each word receives/);
    if (model.endsWith('-attention') || model === PAGE_MODEL) assert.match(what, /Attention weights of the attention pooling/);
  }
  if (models.includes('transformer')) {
    // The default "last layer" is the last layer.
    const transformer = '#comparer .panel[data-model="transformer"]';
    const layers = Number((await page.locator(`${transformer} select[data-choice="layer"] option`).first().textContent()).match(/\d+/)[0]);
    assert.match(await page.locator(`${transformer} .explanation`).textContent(), new RegExp(`layer ${layers},`));
    await page.selectOption(`${transformer} select[data-choice="head"]`, '0');
    await page.waitForFunction(() => document.getElementById('comparer').results
      .some((r) => r?.model === 'transformer' && r.attentionHead === 0));
    assert.match(await page.locator(`${transformer} .explanation`).textContent(), /head 1/);
  }
  // The review typed in Compare goes back to Classify.
  await typeAndWait(page, 'Dull and far too long.', 'comparer');
  await page.click('#tab-classify');
  await page.waitForFunction(() => document.getElementById('classifier').result?.text === 'Dull and far too long.');
  await page.click('#tab-compare');
  await page.screenshot({ path: path.join(ARTIFACTS, 'compare.png'), fullPage: true });

  // Study: the table from results.json and the figures.
  await page.click('#tab-study');
  await page.waitForSelector('#study-table:not([hidden])', { timeout: 10000 });
  const rows = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/study/results.json'), 'utf8'));
  assert.equal(await page.locator('#study-table tbody tr').count(), rows.length);
  assert.match(await page.textContent('#study-table tbody'), /\d+\.\d\d %/);
  // Four figures for each protocol the study has run that trains by epochs (not the joined models).
  assert.ok(rows.some((r) => r.protocol === 'ngram-path'));
  assert.equal(await figuresLoaded(page, '#study-figures'), 4 * new Set(rows.filter((r) => r.epochs.length > 0).map((r) => r.protocol)).size);
  // The translation study: one row per decoder, and its two figures.
  await page.waitForSelector('#translation-study-table:not([hidden])', { timeout: 10000 });
  const translationRows = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/study/translation/results.json'), 'utf8'));
  assert.equal(await page.locator('#translation-study-table tbody tr').count(), translationRows.length);
  assert.match(await page.textContent('#translation-study-table tbody'), new RegExp(translationRows[0].test_greedy.bleu.toFixed(2)));
  assert.equal(await figuresLoaded(page, '#translation-study-figures'), 2);
  // The faithfulness study: a row per model and method, the reading, and its four figures.
  await page.waitForSelector('#faithfulness-study-table:not([hidden])', { timeout: 10000 });
  const faithfulness = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/study/faithfulness/summary.json'), 'utf8'));
  const methodRows = Object.values(faithfulness.models).reduce((n, m) => n + Object.keys(m.methods).length, 0);
  assert.equal(await page.locator('#faithfulness-study-table tbody tr').count(), methodRows);
  const attention = faithfulness.models['bilstm-attention'].methods.attention;
  assert.match(await page.textContent('#faithfulness-study-table tbody'), new RegExp(attention.aopc_comprehensiveness.toFixed(3)));
  assert.equal(await page.locator('#faithfulness-study-reading p').count(), faithfulness.reading.length);
  assert.match(await page.textContent('#faithfulness-study-status'), /Jain & Wallace/);
  assert.equal(await figuresLoaded(page, '#faithfulness-study-figures'), 4);
  await page.screenshot({ path: path.join(ARTIFACTS, 'study.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test('Translate view: typed English gives French, a heatmap of the right shape, the baseline beside it', async (t) => {
  const { page, problems } = await openPage(t);
  await ready(page);
  const requests = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  assert.equal(requests.filter((p) => p.includes('translate')).length, 0);  // nothing translator-related before the tab opens
  await page.click('#tab-translate');
  assert.equal(await page.isHidden('#review-tools'), true);
  await page.waitForFunction(() => document.getElementById('translator').state === 'ready', null, { timeout: 30000 });
  assert.ok(requests.some((p) => p.endsWith('/dist/attnlens-translate.wasm')));
  const translateLens = await loadTranslateEngine();
  const reference = translateLens.Translator.fromBytes(new Uint8Array(fs.readFileSync(TRANSLATOR)));

  const translate = async (text) => {
    await page.fill('#translator textarea', text);
    await page.waitForFunction((expected) => document.getElementById('translator').result?.text === expected, text);
  };
  const text = 'She is reading a book in the garden.';
  await translate(text);
  const expected = reference.translate(text);
  assert.equal(await page.textContent('#translator .translation:not(.baseline)'), expected.translation);
  assert.ok((await page.textContent('#translator .translation.baseline')).length > 0);
  // One row per French token, one column per English token; cells carry the weights.
  assert.equal(await page.locator('#translator .alignment tbody tr').count(), expected.targetTokens.length);
  assert.equal(await page.locator('#translator .alignment thead th').count(), expected.sourceTokens.length);
  const firstRow = await page.$$eval('#translator .alignment tbody tr:first-child td', (cells) => cells.map((c) => Number(c.dataset.weight)));
  firstRow.forEach((w, j) => assert.ok(Math.abs(w - expected.attention[0][j]) < 1e-4));
  assert.match(await page.getAttribute('#translator .alignment tbody tr:first-child td >> nth=0', 'title'), /→ “she”: \d\.\d{3}/);
  // Choosing a French word shades the English sentence by its row.
  await page.click('#translator .alignment tbody tr:nth-child(2) th button');
  const shaded = await page.$$eval('#translator .source .token', (spans) => spans.map((s) => Number(s.dataset.weight)));
  shaded.forEach((w, j) => assert.ok(Math.abs(w - expected.attention[1][j]) < 1e-6));
  assert.equal(await page.textContent('#translator .source'), text);
  assert.match(await page.textContent('#translator .translate-result'), new RegExp(`What “${expected.targetTokens[1]}” attended to`));
  await page.screenshot({ path: path.join(ARTIFACTS, 'translate.png'), fullPage: true });

  // Beam search on request; unknown words are marked; hostile text stays text.
  await page.check('#translator input[type="checkbox"]');
  await page.waitForFunction(() => document.getElementById('translator').result?.beam === 5);
  assert.equal(await page.textContent('#translator .translation:not(.baseline)'), reference.translate(text, { beam: 5 }).translation);
  assert.match(await page.textContent('#translator .timing'), /beam search \(width 5\)/);
  const hostile = 'Zqxwv <img src=x onerror=alert(1)> is here.';
  await translate(hostile);
  assert.match(await page.textContent('#translator .translate-result'), /Unknown to the translator \(shown dotted, read as <unk>\): zqxwv/);
  assert.equal(await page.locator('#translator .alignment thead th.oov').count(),
    reference.translate(hostile, { beam: 5 }).sourceTokens.filter((s) => s.oov).length);
  assert.equal(await page.textContent('#translator .source'), hostile);
  assert.equal(await page.$$eval('img', (n) => n.length), 0);
  assert.equal(await page.evaluate(() => document.getElementById('translator').shadowRoot.querySelectorAll('img').length), 0);
  assert.match(await page.textContent('#translator .footer'), /Tatoeba \(tatoeba\.org\), CC-BY 2\.0 FR/);
  // An example sentence button fills the element.
  await page.click('#translate-examples >> text=I am cold.');
  await page.waitForFunction(() => document.getElementById('translator').result?.text === 'I am cold.');
  assert.deepEqual(problems, []);
});

test('Translate view: a translator that fails to load gives a clear message', async (t) => {
  const { page } = await openPage(t, {
    route: { pattern: '**/translate-eng-fra.safetensors', handler: (route) => route.fulfill({ status: 404, body: '' }) },
  });
  await ready(page);
  await page.click('#tab-translate');
  await page.waitForFunction(() => document.getElementById('translator').state === 'error', null, { timeout: 30000 });
  assert.match(await page.textContent('#translator .status'), /Could not download the translator translate-eng-fra .*HTTP 404/);
  assert.equal(await page.isDisabled('#translator textarea'), true);
});

test('hostile text is shown as text and runs nothing', async (t) => {
  const { page, problems } = await openPage(t);
  await ready(page);
  const hostile = '<img src=x onerror=alert(1)> <script>alert(2)</script> "><b>bold</b> &amp;';
  await typeAndWait(page, hostile);
  assert.equal(await page.textContent('#classifier .highlight'), hostile);
  assert.equal(await page.$$eval('#classifier .highlight *:not(.token)', (n) => n.length), 0);
  assert.equal(await page.$$eval('img, script:not([src])', (n) => n.length), 0);
  await checkHighlight(page, hostile);
  assert.deepEqual(problems, []);
});

test('a model that fails to load gives a clear message', async (t) => {
  const { page } = await openPage(t, {
    route: { pattern: `**/${PAGE_MODEL}.safetensors`, handler: (route) => route.fulfill({ status: 404, body: '' }) },
  });
  await page.waitForSelector('body[data-state="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#classifier .status'), new RegExp(`Could not download the model ${PAGE_MODEL} .*HTTP 404`));
});

test('an engine that fails to load gives a clear message', async (t) => {
  const { page } = await openPage(t, {
    route: { pattern: '**/attnlens.wasm', handler: (route) => route.fulfill({ status: 404, body: '' }) },
  });
  await page.waitForSelector('body[data-state="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#classifier .status'), /Could not load the engine \(attnlens\.wasm\)/);
});

test('a corrupt model file gives the loader message', async (t) => {
  const { page } = await openPage(t, {
    route: { pattern: `**/${PAGE_MODEL}.safetensors`, handler: (route) => route.fulfill({ status: 200, body: 'garbage!garbage!' }) },
  });
  await page.waitForSelector('body[data-state="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#classifier .status'), /header length .* exceeds|larger than the/);
});

test('readable at phone width', async (t) => {
  const { page } = await openPage(t, { viewport: { width: 360, height: 800 } });
  await ready(page);
  await page.click('text=Turns around');
  await page.waitForFunction(() => document.getElementById('classifier').result?.text.startsWith('Slow at first'));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'page-phone.png'), fullPage: true });
  // The Translate view too: the heatmap scrolls inside its box, the page does not.
  await page.click('#tab-translate');
  await page.waitForFunction(() => document.getElementById('translator').state === 'ready', null, { timeout: 30000 });
  const sentence = 'We will go to the beach tomorrow if it does not rain, and then we will eat ice cream together.';
  await page.fill('#translator textarea', sentence);
  await page.waitForFunction((expected) => document.getElementById('translator').result?.text === expected, sentence);
  assert.ok(await page.locator('#translator .alignment tbody tr').count() > 0);
  const translateOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(translateOverflow <= 0, `the Translate view is ${translateOverflow}px wider than the screen`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'translate-phone.png'), fullPage: true });
});

test('first-load size and typing-to-highlight time for a 200-word review (reported, not asserted)', async (t) => {
  const loaded = [];
  const { page } = await openPage(t, { onContext: (context) => context.on('response', (r) => loaded.push(r)) });
  await ready(page);
  let bytes = 0;
  for (const response of loaded) bytes += (await response.body().catch(() => Buffer.alloc(0))).length;
  const words = 'the film was surprisingly good and the actors were great but the ending felt rushed'.split(' ');
  const review = Array.from({ length: 200 }, (_, i) => words[i % words.length]).join(' ');
  const latency = [];
  const engine = [];
  for (let run = 0; run < 15; ++run) {
    await typeAndWait(page, `${review} ${run}`);
    const result = await page.evaluate(() => document.getElementById('classifier').result);
    latency.push(result.latencyMs);
    engine.push(result.engineMs);
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  t.diagnostic(`first load: ${(bytes / 1e6).toFixed(2)} MB in ${loaded.length} responses (uncompressed)`);
  t.diagnostic(`200-word review, measured in the page: input to highlight median ${median(latency).toFixed(1)} ms, `
    + `engine ${median(engine).toFixed(1)} ms`);
});
