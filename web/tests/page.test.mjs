// The page in headless Chromium (Debian's, driven by playwright-core; no browser download):
// it loads, classifies typed reviews, draws the highlight exactly over each token's
// offsets, shows hostile text as text, reports load failures, and leaves a screenshot.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ARTIFACTS, useSite } from './browser.mjs';
import { DIST, ROOT, TRANSLATOR, loadEngine, loadTranslateEngine, modelBytes } from './helpers.mjs';

const site = useSite();
const openPage = (t, options) => site.openPage(t, options);
const engine = await loadEngine();
const model = engine.Model.fromBytes(modelBytes());

async function typeAndWait(page, text) {
  const before = await page.getAttribute('#result', 'data-result-id');
  await page.fill('#review', text);
  await page.waitForFunction((previous) => {
    const id = document.getElementById('result').dataset.resultId;
    return id && id !== previous;
  }, before);
}

// Every token span must hold exactly text.slice(start, end) of the model's tokens, and the
// highlight as a whole must reproduce the visitor's text character for character.
async function checkHighlight(page, text) {
  const spans = await page.$$eval('#highlight .token', (nodes) => nodes.map((n) => ({
    text: n.textContent, start: Number(n.dataset.start), end: Number(n.dataset.end), weight: Number(n.dataset.weight),
    oov: n.classList.contains('oov'),
  })));
  const expected = model.classify(text).tokens;
  assert.equal(spans.length, expected.length);
  spans.forEach((span, i) => {
    assert.equal(span.start, expected[i].start);
    assert.equal(span.end, expected[i].end);
    assert.equal(span.text, text.slice(expected[i].start, expected[i].end));
    assert.ok(Math.abs(span.weight - expected[i].weight) < 1e-9);
    assert.equal(span.oov, expected[i].oov);
  });
  assert.equal(await page.textContent('#highlight'), text);
}

test('loads, classifies typed reviews and highlights every token at its offsets', async (t) => {
  const { page, problems } = await openPage(t);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  assert.match(await page.textContent('#model-info'), /IMDB test accuracy \d+\.\d %/);

  const positive = 'An absolute gem — funny, moving, and beautifully acted. I loved every minute. 😀';
  await typeAndWait(page, positive);
  assert.equal(await page.textContent('#label'), 'Positive');
  assert.ok(parseFloat(await page.textContent('#probability')) > 80);
  await checkHighlight(page, positive);

  const negative = 'Dreadful. The plot makes no sense, the acting is wooden and it is far too long. Avoid.';
  await typeAndWait(page, negative);
  assert.equal(await page.textContent('#label'), 'Negative');
  assert.ok(parseFloat(await page.textContent('#probability')) < 20);
  await checkHighlight(page, negative);

  // Keyboard: focusing a token shows its weight.
  await page.focus('#highlight .token >> nth=0');
  assert.match(await page.textContent('#token-detail'), /“Dreadful” — weight 0\.\d{4}/);

  // An example with a turn, then a long one; both classified whole.
  await page.click('text=Long review');
  await page.waitForFunction(() => document.querySelectorAll('#highlight .token').length > 200);
  await checkHighlight(page, await page.inputValue('#review'));
  await page.screenshot({ path: path.join(ARTIFACTS, 'page-long.png'), fullPage: true });

  // Typing fast into a long review: the page keeps up and ends on the final text.
  await page.click('#review');
  await page.keyboard.press('End');
  await page.keyboard.type(' Truly great.', { delay: 5 });
  await page.waitForFunction(() => document.getElementById('highlight').textContent
    === document.getElementById('review').value);
  await checkHighlight(page, await page.inputValue('#review'));

  await page.click('text=Turns around');
  await page.waitForFunction(() => document.getElementById('highlight').textContent.startsWith('Slow at first'));
  await page.hover('#highlight .token >> nth=5');
  await page.screenshot({ path: path.join(ARTIFACTS, 'page.png') });
  assert.deepEqual(problems, []);
});

test('switching models, the Compare view and the Study view', async (t) => {
  const { page, problems } = await openPage(t);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  const models = JSON.parse(fs.readFileSync(path.join(DIST, 'models.json'), 'utf8')).models;
  const text = 'Slow at first, but ultimately deeply moving. A wonderful film.';
  await typeAndWait(page, text);

  // Another model, loaded on demand; its highlight still covers the text exactly.
  const other = models.find((m) => m !== 'bilstm-attention');
  if (other) {
    const before = await page.getAttribute('#result', 'data-result-id');
    await page.selectOption('#model', other);
    await page.waitForFunction((previous) => document.getElementById('result').dataset.resultId !== previous, before);
    assert.match(await page.textContent('#model-info'), new RegExp(`Model: ${other}`));
    assert.equal(await page.textContent('#highlight'), text);
    assert.match(await page.textContent('#explanation'), /Attention weights|Gradient × input/);
  }

  // Compare: one panel per model, each with a prediction and a full highlight.
  await page.click('#tab-compare');
  await page.waitForFunction((count) => document.querySelectorAll('.compare-panel[data-result-id]').length === count
    && [...document.querySelectorAll('.compare-panel .highlight')].every((h) => h.textContent.length > 0), models.length);
  for (const model of models) {
    const panel = page.locator(`.compare-panel[data-model="${model}"]`);
    assert.match(await panel.locator('.probability').textContent(), /\d+\.\d % positive/);
    assert.equal(await panel.locator('.highlight').textContent(), text);
    assert.ok(await panel.locator('.token').count() > 5);
    const what = await panel.locator('.what').textContent();
    if (model === 'lstm' || model === 'cnn') assert.match(what, /Gradient × input/);
    if (model === 'transformer') assert.match(what, /Self-attention each word receives/);
  }
  if (models.includes('transformer')) {
    // The default "last layer" is the last layer even on the first request, before the model's info arrived.
    const layers = Number((await page.locator('#transformer-layer option').first().textContent()).match(/\d+/)[0]);
    assert.match(await page.locator('.compare-panel[data-model="transformer"] .what').textContent(), new RegExp(`layer ${layers},`));
    await page.selectOption('#transformer-head', '0');
    await page.waitForFunction(() => /head 1/.test(document.querySelector('.compare-panel[data-model="transformer"] .what').textContent));
  }
  await page.screenshot({ path: path.join(ARTIFACTS, 'compare.png'), fullPage: true });

  // Study: the table from results.json and the figures.
  await page.click('#tab-study');
  await page.waitForSelector('#study-table:not([hidden])', { timeout: 10000 });
  const rows = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/study/results.json'), 'utf8'));
  assert.equal(await page.locator('#study-table tbody tr').count(), rows.length);
  assert.match(await page.textContent('#study-table tbody'), /\d+\.\d\d %/);
  await page.waitForFunction(() => [...document.querySelectorAll('#study-figures img')].every((img) => img.complete && img.naturalWidth > 0));
  assert.ok(await page.locator('#study-figures img').count() >= 4);
  // The translation study: one row per decoder, and its two figures.
  await page.waitForSelector('#translation-study-table:not([hidden])', { timeout: 10000 });
  const translationRows = JSON.parse(fs.readFileSync(path.join(ROOT, 'models/study/translation/results.json'), 'utf8'));
  assert.equal(await page.locator('#translation-study-table tbody tr').count(), translationRows.length);
  assert.match(await page.textContent('#translation-study-table tbody'), new RegExp(translationRows[0].test_greedy.bleu.toFixed(2)));
  await page.waitForFunction(() => [...document.querySelectorAll('#translation-study-figures img')]
    .every((img) => img.complete && img.naturalWidth > 0));
  assert.equal(await page.locator('#translation-study-figures img').count(), 2);
  await page.screenshot({ path: path.join(ARTIFACTS, 'study.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test('Translate view: typed English gives French, a heatmap of the right shape, the baseline beside it', async (t) => {
  const { page, problems } = await openPage(t);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  const requests = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  assert.equal(requests.filter((p) => p.includes('translate')).length, 0);  // nothing translator-related before the tab opens
  await page.click('#tab-translate');
  assert.equal(await page.isHidden('#input'), true);
  await page.waitForSelector('#view-translate[data-state="ready"]', { timeout: 30000 });
  assert.ok(requests.some((p) => p.endsWith('/dist/attnlens-translate.wasm')));
  const translateLens = await loadTranslateEngine();
  const reference = translateLens.Translator.fromBytes(new Uint8Array(fs.readFileSync(TRANSLATOR)));

  const translate = async (text) => {
    const before = await page.getAttribute('#translation', 'data-result-id');
    await page.fill('#sentence', text);
    await page.waitForFunction((previous) => {
      const id = document.getElementById('translation').dataset.resultId;
      return id && id !== previous && document.getElementById('baseline-output').dataset.resultId === id;
    }, before);
  };
  const text = 'She is reading a book in the garden.';
  await translate(text);
  const expected = reference.translate(text);
  assert.equal(await page.textContent('#translation'), expected.translation);
  assert.ok((await page.textContent('#baseline-output')).length > 0);
  // One row per French token, one column per English token; cells carry the weights.
  assert.equal(await page.locator('#alignment tbody tr').count(), expected.targetTokens.length);
  assert.equal(await page.locator('#alignment thead th').count(), expected.sourceTokens.length);
  const firstRow = await page.$$eval('#alignment tbody tr:first-child td', (cells) => cells.map((c) => Number(c.dataset.weight)));
  firstRow.forEach((w, j) => assert.ok(Math.abs(w - expected.attention[0][j]) < 1e-4));
  assert.match(await page.getAttribute('#alignment tbody tr:first-child td', 'title'), /→ “she”: \d\.\d{3}/);
  // Clicking a French word shades the English sentence by its row.
  await page.click('#alignment tbody tr:nth-child(2) th button');
  const shaded = await page.$$eval('#source-line .token', (spans) => spans.map((s) => Number(s.dataset.weight)));
  shaded.forEach((w, j) => assert.ok(Math.abs(w - expected.attention[1][j]) < 1e-6));
  assert.equal(await page.textContent('#source-line'), text);
  assert.match(await page.textContent('#source-caption'), new RegExp(`What “${expected.targetTokens[1]}” attended to`));
  await page.screenshot({ path: path.join(ARTIFACTS, 'translate.png'), fullPage: true });

  // Beam search on request; unknown words are marked; hostile text stays text.
  const before = await page.getAttribute('#translation', 'data-result-id');
  await page.check('#translate-beam');
  await page.waitForFunction((previous) => document.getElementById('translation').dataset.resultId !== previous, before);
  assert.equal(await page.textContent('#translation'), reference.translate(text, { beam: 5 }).translation);
  assert.match(await page.textContent('#translate-timing'), /beam search \(width 5\)/);
  const hostile = 'Zqxwv <img src=x onerror=alert(1)> is here.';
  await translate(hostile);
  assert.match(await page.textContent('#translate-oov'), /zqxwv/);
  assert.equal(await page.locator('#alignment thead th.oov').count(), reference.translate(hostile, { beam: 5 }).sourceTokens.filter((s) => s.oov).length);
  assert.equal(await page.textContent('#source-line'), hostile);
  assert.equal(await page.$$eval('img', (n) => n.length), 0);
  assert.match(await page.textContent('#translate-credit'), /Tatoeba \(tatoeba\.org\), CC-BY 2\.0 FR/);
  assert.deepEqual(problems, []);
});

test('Translate view: a translator that fails to load gives a clear message', async (t) => {
  const { page } = await openPage(t, {
    route: { pattern: '**/translate-eng-fra.safetensors', handler: (route) => route.fulfill({ status: 404, body: '' }) },
  });
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  await page.click('#tab-translate');
  await page.waitForSelector('#view-translate[data-state="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#translate-status'), /Could not download the translator translate-eng-fra .*HTTP 404/);
  assert.equal(await page.isDisabled('#sentence'), true);
});

test('hostile text is shown as text and runs nothing', async (t) => {
  const { page, problems } = await openPage(t);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  const hostile = '<img src=x onerror=alert(1)> <script>alert(2)</script> "><b>bold</b> &amp;';
  await typeAndWait(page, hostile);
  assert.equal(await page.textContent('#highlight'), hostile);
  assert.equal(await page.$$eval('#highlight *:not(.token)', (n) => n.length), 0);
  assert.equal(await page.$$eval('img, script:not([src])', (n) => n.length), 0);
  await checkHighlight(page, hostile);
  assert.deepEqual(problems, []);
});

test('a model that fails to load gives a clear message', async (t) => {
  const { page } = await openPage(t, {
    route: { pattern: '**/bilstm-attention.safetensors', handler: (route) => route.fulfill({ status: 404, body: '' }) },
  });
  await page.waitForSelector('body[data-state="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#status'), /Could not download the model .*HTTP 404/);
  assert.equal(await page.isDisabled('#review'), true);
});

test('an engine that fails to load gives a clear message', async (t) => {
  const { page } = await openPage(t, {
    route: { pattern: '**/attnlens.wasm', handler: (route) => route.fulfill({ status: 404, body: '' }) },
  });
  await page.waitForSelector('body[data-state="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#status'), /Could not load the engine \(dist\/attnlens\.wasm\)/);
  assert.equal(await page.isDisabled('#review'), true);
});

test('a corrupt model file gives the loader message', async (t) => {
  const { page } = await openPage(t, {
    route: { pattern: '**/bilstm-attention.safetensors', handler: (route) => route.fulfill({ status: 200, body: 'garbage!garbage!' }) },
  });
  await page.waitForSelector('body[data-state="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#status'), /header length .* exceeds|larger than the/);
});

test('readable at phone width', async (t) => {
  const { page } = await openPage(t, { viewport: { width: 360, height: 800 } });
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  await page.click('text=Turns around');
  await page.waitForSelector('#result:not([hidden])');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'page-phone.png'), fullPage: true });
  // The Translate view too: the heatmap scrolls inside its box, the page does not.
  await page.click('#tab-translate');
  await page.waitForSelector('#view-translate[data-state="ready"]', { timeout: 30000 });
  await page.fill('#sentence', 'We will go to the beach tomorrow if it does not rain, and then we will eat ice cream together.');
  await page.waitForSelector('#translate-result:not([hidden])');
  await page.waitForFunction(() => document.querySelectorAll('#alignment tbody tr').length > 0);
  const translateOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(translateOverflow <= 0, `the Translate view is ${translateOverflow}px wider than the screen`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'translate-phone.png'), fullPage: true });
});

test('first-load size and typing-to-highlight time for a 200-word review (reported, not asserted)', async (t) => {
  const { page } = await openPage(t);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  const files = ['index.html', 'style.css', 'app.js', 'common.js', 'examples.js', 'highlight.js', 'translate.js', 'train.js', 'training.js',
    'worker.js', 'dist/attnlens.js', 'dist/attnlens.wasm',
    'dist/bilstm-attention.safetensors'];
  const bytes = files.reduce((sum, f) => sum + fs.statSync(path.join(ROOT, 'web', f)).size, 0);
  const words = 'the film was surprisingly good and the actors were great but the ending felt rushed'.split(' ');
  const review = Array.from({ length: 200 }, (_, i) => words[i % words.length]).join(' ');
  const latency = [];
  const engine = [];
  for (let run = 0; run < 15; ++run) {
    await typeAndWait(page, `${review} ${run}`);
    latency.push(Number(await page.getAttribute('#result', 'data-latency-ms')));
    engine.push(Number(await page.getAttribute('#result', 'data-engine-ms')));
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  t.diagnostic(`first load: ${(bytes / 1e6).toFixed(2)} MB (HTML + CSS + JS + wasm + model, uncompressed)`);
  t.diagnostic(`200-word review, measured in the page: keystroke to highlight median ${median(latency)} ms `
    + `, engine ${median(engine)} ms`);
});
