// The page's Explain view in headless Chromium: every method's highlight over the review's exact
// offsets, the faithfulness table as the engine computes it (checked against the same engine
// under node), the deletion curves, the plain-language reading, the three attention experiments,
// the IG controls with δ, hostile text, a model without attention, and a 2,000-word review that
// leaves the page usable.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ARTIFACTS, useSite } from './browser.mjs';
import { ROOT, loadTrainEngine } from './helpers.mjs';

const site = useSite();
const train = await loadTrainEngine();
const modelFile = (name) => new Uint8Array(fs.readFileSync(path.join(ROOT, 'models', `${name}.safetensors`)));

async function openExplain(t) {
  const { page, problems } = await site.openPage(t);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  await page.click('#tab-explain');
  await page.waitForFunction(() => document.querySelectorAll('#explain-methods .explain-panel').length > 0, null, { timeout: 30000 });
  return { page, problems };
}

// Types a review and waits until the table holds this review's figures.
async function explainText(page, text) {
  await page.evaluate(() => { document.getElementById('explain-table').hidden = true; });
  await page.fill('#explain-text', text);
  await page.waitForFunction(() => !document.getElementById('explain-table').hidden
    && document.getElementById('explain-status').classList.contains('ready'), null, { timeout: 60000 });
}

const METHODS = ['attention', 'contribution', 'gradient', 'gradient-x-input', 'integrated-gradients', 'occlusion', 'random'];

test('Explain: methods side by side, the faithfulness table as the engine computes it, curves and a reading', async (t) => {
  const { page, problems } = await openExplain(t);
  assert.equal(await page.inputValue('#explain-model'), 'bilstm-attention');
  const text = 'A dull plot and wooden acting — but the music is lovely 🎻, and the ending works.';
  await explainText(page, text);
  assert.deepEqual(await page.$$eval('#explain-methods .explain-panel', (nodes) => nodes.map((n) => n.dataset.method)), METHODS);
  // Each panel's highlight is the text, character for character, with the engine's tokens.
  const reference = train.Model.fromBytes(modelFile('bilstm-attention'));
  t.after(() => reference.delete());
  for (const method of METHODS) {
    const panel = `#explain-methods .explain-panel[data-method="${method}"]`;
    assert.equal(await page.textContent(`${panel} .highlight`), text, method);
    const spans = await page.$$eval(`${panel} .token`, (nodes) => nodes.map((n) => ({ start: Number(n.dataset.start), weight: Number(n.dataset.weight),
      against: n.classList.contains('against') })));
    const expected = reference.explain(text, { method }).tokens;
    assert.equal(spans.length, expected.length, method);
    spans.forEach((span, i) => {
      assert.equal(span.start, expected[i].start);
      // Chromium runs the relaxed-SIMD kernels (fused multiply-adds), node here SIMD128: the same
      // figures to float rounding (web/tests/kernels.test.mjs).
      assert.ok(Math.abs(span.weight - expected[i].score) < 1e-5 * Math.max(1, Math.abs(expected[i].score)),
        `${method} token ${i}: ${span.weight} against ${expected[i].score}`);
      assert.equal(span.against, ['contribution', 'gradient-x-input', 'integrated-gradients', 'occlusion'].includes(method) && expected[i].score < 0);
    });
  }
  assert.match(await page.textContent('#explain-methods [data-method="integrated-gradients"] .note'), /Completeness gap δ = /);
  // Each word is a button: pointing at it shows its score and rank, and which way it counts.
  await page.hover('#explain-methods [data-method="occlusion"] .token >> nth=1');
  assert.match(await page.textContent('#explain-methods [data-method="occlusion"] .detail'),
    /^“dull”: score -?\d.*, rank \d+ of \d+, (for|against) the prediction\.$/);
  // The table: a row per method and the random baseline, numbers as the engine gives them.
  const f = reference.faithfulness(text, { methods: METHODS });
  const rows = await page.$$eval('#explain-table tbody tr', (nodes) => nodes.map((n) => [...n.children].map((c) => c.textContent)));
  assert.equal(rows.length, METHODS.length + 1);
  METHODS.forEach((method, i) => {
    assert.equal(rows[i][1], f.methods[method].aopcComprehensiveness.toFixed(3), method);
    assert.equal(rows[i][2], f.methods[method].aopcSufficiency.toFixed(3), method);
  });
  assert.equal(rows[METHODS.length][1], f.random.aopcComprehensiveness.toFixed(3));
  assert.match(await page.textContent('#explain-reading'), /reads this review as (positive|negative).*random/);
  // The deletion curves: one series per method, drawn by the page's chart library.
  assert.equal(await page.getAttribute('#explain-curves', 'data-series'), String(METHODS.length));
  assert.equal(await page.locator('#explain-curves canvas').count(), 1);
  assert.equal(await page.locator('#explain-curves .u-legend .u-series').count(), METHODS.length + 1);

  // IG's steps are a control; δ follows it.
  const gap = async () => Number(await page.getAttribute('#explain-methods [data-method="integrated-gradients"]', 'data-gap'));
  const gap50 = await gap();
  await page.fill('#explain-steps', '2');
  await page.dispatchEvent('#explain-steps', 'change');
  await page.waitForFunction((before) => Number(document.querySelector('#explain-methods [data-method="integrated-gradients"]').dataset.gap) !== before, gap50);
  const expectedGap = reference.explain(text, { method: 'integrated-gradients', steps: 2 }).completenessGap;
  assert.ok(Math.abs(await gap() - expectedGap) < 1e-5 * Math.max(1, Math.abs(expectedGap)));  // relaxed SIMD in Chromium, SIMD128 here
  await page.fill('#explain-steps', '50');
  await page.dispatchEvent('#explain-steps', 'change');

  // The three experiments.
  const experiments = reference.attentionExperiments(text);
  await page.click('#explain-permute');
  await page.waitForSelector('#explain-experiments[data-kind="permuted"]');
  assert.match(await page.textContent('#explain-experiments'), new RegExp(`median ${experiments.permuted.medianAbsChange.toFixed(4)}`));
  await page.click('#explain-uniform');
  await page.waitForSelector('#explain-experiments[data-kind="uniform"]');
  assert.match(await page.textContent('#explain-experiments'), new RegExp(experiments.uniform.absChange.toFixed(4)));
  await page.click('#explain-adversarial');
  await page.waitForSelector('#explain-experiments[data-kind="adversarial"]');
  assert.match(await page.textContent('#explain-experiments'), new RegExp(`divergence ${experiments.adversarial.jsd.toFixed(3)}`));
  assert.equal(await page.locator('#explain-experiments .explain-pair .highlight').count(), 2);
  await page.screenshot({ path: path.join(ARTIFACTS, 'explain.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test('Explain: hostile text stays text, a model without attention, and a 2,000-word review', async (t) => {
  const { page, problems } = await openExplain(t);
  const hostile = '<img src=x onerror=alert(1)> \u202Egniht\u202C zero\u200Bwidth <script>alert(2)</script> "quotes" & amp;';
  await explainText(page, hostile);
  for (const method of METHODS) assert.equal(await page.textContent(`#explain-methods [data-method="${method}"] .highlight`), hostile);
  assert.equal(await page.locator('#view-explain img, #view-explain script').count(), 0);

  // The CNN: no attention panel, the experiments disabled and saying why.
  await page.selectOption('#explain-model', 'cnn');
  await page.waitForFunction(() => !document.querySelector('#explain-methods [data-method="attention"]')
    && document.getElementById('explain-permute').disabled, null, { timeout: 30000 });
  await explainText(page, 'Tedious, predictable and far too long.');
  assert.equal(await page.locator('#explain-table tbody tr').count(), METHODS.length - 1);  // no attention, no contribution; the random row
  assert.match(await page.textContent('#explain-experiments-note'), /no attention pooling/);

  // The Transformer: attention by layer and head, and attention rollout.
  await page.selectOption('#explain-model', 'transformer');
  await page.waitForFunction(() => document.querySelector('#explain-methods [data-method="attention-rollout"]')
    && !document.getElementById('explain-layer-choice').hidden, null, { timeout: 30000 });
  await page.selectOption('#explain-layer', { value: '0' });
  await page.selectOption('#explain-head', { value: '1' });
  await explainText(page, 'A warm, funny and clever film.');
  assert.match(await page.textContent('#explain-methods [data-method="attention"] .how'), /layer 1, head 2/);
  assert.match(await page.textContent('#explain-methods [data-method="attention-rollout"] .how'), /rolled out across the 2 layers/);
  assert.equal(await page.locator('#explain-table tbody tr').count(), METHODS.length + 1);  // rollout and the random row, no contribution

  // A 2,000-word review: the quick methods are shown, occlusion and the metrics wait for a button,
  // and the page goes on answering.
  await page.selectOption('#explain-model', 'bilstm-attention');
  await page.waitForFunction(() => document.querySelector('#explain-methods [data-method="attention"]'), null, { timeout: 30000 });
  const words = 'the film was slow at first but the acting is superb and the ending moved me deeply'.split(' ');
  const long = Array.from({ length: 2000 }, (_, i) => words[i % words.length]).join(' ');
  await page.fill('#explain-text', long);
  await page.waitForSelector('#explain-measure:not([hidden])', { timeout: 120000 });
  assert.equal(await page.getAttribute('#explain-methods [data-method="attention"]', 'data-tokens'), '2000');
  assert.match(await page.getAttribute('#explain-methods [data-method="occlusion"]', 'class'), /deferred/);
  assert.match(await page.textContent('#explain-status'), /Measure faithfulness/);
  assert.equal(await page.isHidden('#explain-table'), true);
  // Responsive: another tab answers at once, and a short review gets its table.
  await page.click('#tab-classify');
  await page.fill('#classifier textarea', 'Wonderful.');
  await page.waitForFunction(() => document.getElementById('classifier').result?.text === 'Wonderful.', null, { timeout: 30000 });
  await page.click('#tab-explain');
  await explainText(page, 'Wonderful, warm and funny.');
  assert.equal(await page.isHidden('#explain-measure'), true);
  assert.deepEqual(problems, []);
});
