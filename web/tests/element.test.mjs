// <attn-lens> and <attn-lens-translate> as a tutorial author embeds them (web/examples/), in
// headless Chromium: twelve elements on one engine, strict Content-Security-Policy on the same
// origin and from another origin, a sandboxed cross-origin iframe, no JavaScript, attributes
// and properties (also before the element is defined), elements removed and re-added, lazy
// loading, hostile text and hostile model files, axe-core audits, phone width, a scaled slide,
// and importing the module in node without a DOM.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createServer } from 'http-server';
import { chromium } from 'playwright-core';
import { ARTIFACTS, CHROMIUM_FLAGS } from './browser.mjs';
import { DIST, ROOT, TRANSLATOR, loadEngine, loadTrainEngine } from './helpers.mjs';

const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');
const servers = [];
let browser;
let site;      // web/ on one origin (the examples' own)
let cdn;       // web/ again on another origin, with CORS: "the package on a CDN"
let hostile = null;  // hostile model files, served by the CDN server

async function serveWeb(cors) {
  const server = createServer({ root: path.join(ROOT, 'web'), cache: -1, showDir: false, silent: true, cors,
    before: [(req, res) => (hostile?.(req, res) ? undefined : res.emit('next'))] });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server.server);
  return `http://127.0.0.1:${server.server.address().port}/`;
}

// A host page made on the fly (its policy in a header), on a third origin.
async function serveHost(pages) {
  const server = http.createServer((req, res) => {
    const page = pages[req.url.split('?')[0]];
    if (!page) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(page.csp ? { 'content-security-policy': page.csp } : {}) });
    res.end(page.html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

before(async () => {
  site = await serveWeb(false);
  cdn = await serveWeb(true);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});
after(async () => {
  await browser?.close();
  for (const server of servers) server.close();
});

// Records what a page does: errors, CSP violations (in the page), requests (the worker's too),
// workers started and ended.
const WATCH = () => {
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
};
async function open(t, url, { viewport = { width: 1000, height: 1100 }, javaScriptEnabled = true, bypassCSP = false } = {}) {
  const context = await browser.newContext({ viewport, javaScriptEnabled, bypassCSP });
  t.after(() => context.close());
  const page = await context.newPage();
  const seen = { errors: [], requests: [], workers: 0, alive: 0, maxAlive: 0 };
  page.on('pageerror', (error) => seen.errors.push(`page error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') seen.errors.push(`console: ${message.text()}`); });
  page.on('dialog', async (dialog) => { seen.errors.push(`dialog: ${dialog.message()}`); await dialog.dismiss(); });
  page.on('request', (request) => seen.requests.push(request.url()));
  page.on('worker', (worker) => {
    seen.workers += 1;
    seen.alive += 1;
    seen.maxAlive = Math.max(seen.maxAlive, seen.alive);
    worker.on('close', () => { seen.alive -= 1; });
  });
  await page.addInitScript(WATCH);
  if (url) await page.goto(url);
  return { page, seen, context };
}
const count = (seen, suffix) => seen.requests.filter((u) => new URL(u).pathname.endsWith(suffix)).length;
const allClassified = (page, selector = 'attn-lens', timeout = 60000) => page.waitForFunction(
  (s) => [...document.querySelectorAll(s)].every((e) => e.result && e.state === 'ready'), selector, { timeout });
const violations = (page) => page.evaluate(() => window.cspViolations);

const engine = await loadEngine();
const gradientEngine = await loadTrainEngine();
const references = new Map();
function reference(model, text) {
  if (!references.has(model)) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(DIST, `${model}.safetensors`)));
    const small = engine.Model.fromBytes(bytes);
    references.set(model, small.info().hasAttention ? small : gradientEngine.Model.fromBytes(bytes));
  }
  return references.get(model).classify(text);
}

test('twelve elements, four models: all classify, on one worker, one engine download and one fetch per model', async (t) => {
  const { page, seen } = await open(t, `${site}examples/twelve.html`);
  await allClassified(page);
  const results = await page.evaluate(() => [...document.querySelectorAll('attn-lens')].map((e) => e.result));
  assert.equal(results.length, 12);
  for (const result of results) {
    const expected = reference(result.model, result.text);
    assert.equal(result.label, expected.label);
    assert.ok(Math.abs(result.probability - expected.probability) < 1e-6, `${result.model}: ${result.probability} vs ${expected.probability}`);
    assert.equal(result.tokens.length, expected.tokens.length);
  }
  assert.equal(seen.workers, 1, 'one worker for the page');
  assert.equal(count(seen, '/attn-lens-worker.js'), 1);
  assert.equal(count(seen, '/attnlens.wasm'), 1);
  assert.equal(count(seen, '/attnlens-train.wasm'), 1);  // the CNN and the Transformer explain by gradient × input
  assert.equal(count(seen, '/models.json'), 1);
  for (const model of ['bilstm-attention', 'gru-attention', 'cnn', 'transformer']) assert.equal(count(seen, `/${model}.safetensors`), 1, model);
  // The page downloads the model files and compiles the engine while the worker starts; the worker
  // gets them from it (a worker's own downloads are not in the page's resource timing).
  const byPage = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname.split('/').pop()));
  for (const file of ['attnlens.wasm', 'bilstm-attention.safetensors', 'cnn.safetensors']) assert.ok(byPage.includes(file), `${file} by the page`);
  const stats = await page.evaluate(async () => (await import('../dist/attn-lens.js')).engine.stats());
  assert.equal(stats.workersStarted, 1);
  assert.deepEqual(stats.models.map((m) => m.holders).sort(), [3, 3, 3, 3]);
  // One live region for the page, saying the last result.
  await page.waitForFunction(() => /: (positive|negative), \d+ % positive\.$/.test(document.querySelector('[data-attn-lens-announcer]')?.textContent));
  assert.equal(await page.locator('[data-attn-lens-announcer]').count(), 1);
  await page.screenshot({ path: path.join(ARTIFACTS, 'element-twelve.png'), fullPage: true });

  // Removed: the models are released once no element holds them. Re-added: classified again,
  // and never more than one worker.
  await page.evaluate(() => { window.removed = [...document.querySelectorAll('attn-lens')]; document.querySelector('.grid').replaceChildren(); });
  await page.waitForFunction(async () => (await import('../dist/attn-lens.js')).engine.stats().models.length === 0, null, { timeout: 10000 });
  await page.evaluate(() => { for (const e of window.removed) document.querySelector('.grid').append(e); });
  await allClassified(page);
  // Moved (removed and added in one task): kept, not reloaded.
  const fetchedBefore = count(seen, '.safetensors');
  await page.evaluate(() => { const grid = document.querySelector('.grid'); grid.append(...grid.children); });
  await page.evaluate(() => document.querySelector('attn-lens').classify('Moved, still here.'));
  assert.equal(count(seen, '.safetensors'), fetchedBefore);
  assert.ok(seen.maxAlive <= 1, `${seen.maxAlive} workers alive at once`);
  assert.deepEqual(seen.errors, []);
});

test('a server that sends the wasm with the wrong type: the worker loads the engine itself', async (t) => {
  const { page, seen } = await open(t);
  // WebAssembly.compileStreaming needs application/wasm; without it the page's compile fails and
  // the worker falls back to compiling the bytes (emscripten does the same for its own download).
  await page.route('**/dist/attnlens.wasm', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-type': 'application/octet-stream' } });
  });
  await page.goto(`${site}examples/plain.html`);
  await allClassified(page);
  const result = await page.evaluate(() => document.querySelector('attn-lens').result);
  assert.equal(result.label, reference(result.model, result.text).label);
  assert.equal(seen.workers, 1);
  assert.ok(count(seen, '/attnlens.wasm') >= 2, 'the worker downloaded the engine after the page could not compile it');
  assert.deepEqual(seen.errors, []);
});

test('a strict Content-Security-Policy on the same origin: no violation, no error', async (t) => {
  const { page, seen } = await open(t, `${site}examples/strict-csp.html`);
  await allClassified(page, 'attn-lens, attn-lens-translate');
  assert.match(await page.evaluate(() => document.querySelector('attn-lens-translate').result.translation), /\S/);
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(seen.errors, []);
});

test('the package on another origin, under a strict policy: a blob: trampoline starts the worker', async (t) => {
  const origin = new URL(cdn).origin;
  const host = await serveHost({
    '/lesson.html': {
      csp: `default-src 'none'; script-src ${origin} 'wasm-unsafe-eval'; worker-src blob:; connect-src ${origin}; `
        + "style-src 'none'; img-src 'none'; base-uri 'none'; form-action 'none'",
      html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A lesson</title>
        <script type="module" src="${cdn}dist/attn-lens.js"></script></head><body><main><h1>A lesson</h1>
        <attn-lens model="gru-attention">A wonderful film with a dreadful ending.</attn-lens>
        <attn-lens model="lstm" mode="figure">Dull, dull, dull.</attn-lens>
        <attn-lens-translate>I am cold.</attn-lens-translate></main></body></html>`,
    },
  });
  const { page, seen } = await open(t, `${host}/lesson.html`);
  await allClassified(page, 'attn-lens, attn-lens-translate');
  const result = await page.evaluate(() => document.querySelector('attn-lens').result);
  assert.ok(Math.abs(result.probability - reference('gru-attention', result.text).probability) < 1e-6);
  assert.equal(seen.workers, 1);
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(seen.errors, []);
  // The element's styles applied (constructable stylesheet under style-src 'none').
  assert.equal(await page.$eval('attn-lens >> .label', (n) => getComputedStyle(n).fontWeight), '700');
});

test('examples/cross-origin.html as written: the package from http://localhost:8001 under its own policy', async (t) => {
  // The page names localhost:8001 (where tools/demo serves the package with CORS); here the
  // requests to it, the worker's included, are answered by this test's CORS server instead.
  const { page, seen, context } = await open(t);
  const routed = [];
  await context.route('http://localhost:8001/**', async (route) => {
    const url = new URL(route.request().url());
    routed.push(url.pathname);
    await route.fulfill({ response: await route.fetch({ url: new URL(`${url.pathname.slice(1)}${url.search}`, cdn).href }) });
  });
  await page.goto(`${site}examples/cross-origin.html`);
  await allClassified(page);
  const result = await page.evaluate(() => document.querySelector('attn-lens').result);
  assert.ok(Math.abs(result.probability - reference('gru-attention', result.text).probability) < 1e-6);
  for (const file of ['/dist/attn-lens.js', '/dist/attn-lens-worker.js', '/dist/attnlens.wasm', '/dist/gru-attention.safetensors']) {
    assert.ok(routed.includes(file), `${file} came from localhost:8001`);
  }
  assert.equal(seen.workers, 1);
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(seen.errors, []);
});

test('embed.html in a sandboxed cross-origin iframe, sized to its content', async (t) => {
  const origin = new URL(cdn).origin;
  const text = encodeURIComponent('Not bad at all <b>really</b>.');
  const host = await serveHost({
    '/notes.html': {
      csp: `default-src 'none'; script-src ${origin}; frame-src ${origin}; style-src 'none'`,
      html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Notes</title>
        <script type="module" src="${cdn}examples/iframe-host.js"></script></head><body>
        <iframe class="attn-lens-embed" title="attnlens" sandbox="allow-scripts" src="${cdn}dist/embed.html#model=cnn&text=${text}"></iframe>
        </body></html>`,
    },
  });
  const { page, seen } = await open(t, `${host}/notes.html`);
  const frame = await (await page.waitForSelector('iframe')).contentFrame();
  await frame.waitForFunction(() => document.querySelector('attn-lens')?.result, null, { timeout: 60000 });
  const result = await frame.evaluate(() => document.querySelector('attn-lens').result);
  assert.equal(result.text, 'Not bad at all <b>really</b>.');
  assert.equal(result.model, 'cnn');
  assert.equal(await frame.evaluate(() => document.querySelector('attn-lens').shadowRoot.querySelectorAll('b').length), 0);
  await page.waitForFunction(() => parseFloat(document.querySelector('iframe').style.height) > 150);
  const height = await page.$eval('iframe', (f) => parseFloat(f.style.height));
  const content = await frame.evaluate(() => document.documentElement.getBoundingClientRect().height);
  assert.ok(Math.abs(height - content) <= 2, `frame ${height}px, content ${content}px`);
  assert.deepEqual(seen.errors, []);
});

test('without JavaScript the text content is shown', async (t) => {
  const { page } = await open(t, `${site}examples/plain.html`, { javaScriptEnabled: false });
  const first = page.locator('attn-lens').first();
  assert.ok(await first.isVisible());
  assert.equal((await first.innerText()).trim(), 'Slow at first, but ultimately deeply moving.');
});

test('attributes and properties: changed at run time, and set before the element is defined', async (t) => {
  const { page, seen } = await open(t);
  await page.route(`${site}examples/blank.html`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>x</title><main></main>' }));
  await page.goto(`${site}examples/blank.html`);
  // Before the definition: an unknown element with own properties; after it, they count.
  await page.evaluate(async () => {
    const element = document.createElement('attn-lens');
    element.model = 'gru-attention';
    element.text = 'Lovely, lovely film.';
    element.loading = 'eager';
    element.id = 'early';
    document.querySelector('main').append(element);
    await import('../dist/attn-lens.js');
  });
  await page.waitForFunction(() => document.getElementById('early').result);
  let result = await page.evaluate(() => document.getElementById('early').result);
  assert.equal(result.model, 'gru-attention');
  assert.equal(result.text, 'Lovely, lovely film.');
  assert.equal(await page.getAttribute('#early', 'model'), 'gru-attention');

  const next = (change) => page.evaluate(async (source) => {
    const element = document.getElementById('early');
    const done = new Promise((resolve) => element.addEventListener('attn-lens-result', (e) => resolve(e.detail), { once: true }));
    new Function('element', source)(element);  // the test's own code (this page has no policy)
    return done;
  }, change);
  result = await next("element.setAttribute('model', 'cnn')");
  assert.equal(result.model, 'cnn');
  assert.equal(result.explanation, 'gradient×input');
  result = await next("element.setAttribute('text', 'Awful.')");
  assert.equal(result.text, 'Awful.');
  assert.equal(result.label, 'negative');
  result = await next("element.model = 'transformer'; element.explanation = 'attention'");
  assert.equal(result.explanation, 'self-attention');
  result = await next("element.model = 'bilstm-attention'; element.explanation = 'gradient-x-input'");
  assert.equal(result.explanation, 'gradient×input');
  // Every other method of model.explain: scores, the signed ones shaded for and against the prediction.
  result = await next("element.setAttribute('text', 'A dull plot, but the music is lovely and the ending works.'); element.explanation = 'integrated-gradients'");
  assert.equal(result.explanation, 'integrated-gradients');
  assert.equal(result.signed, true);
  assert.ok(result.completenessGap >= 0);
  assert.match(result.aggregation, /Gauss–Legendre/);
  const against = result.tokens.filter((t) => t.weight < 0).length;
  assert.ok(against > 0, 'some words count against the prediction');
  assert.equal(await page.locator('#early .highlight .token.against').count(), against);
  assert.match(await page.textContent('#early .explanation'), /Integrated gradients: .*against/);
  result = await next("element.explanation = 'occlusion'");
  assert.equal(result.explanation, 'occlusion');
  assert.equal(result.signed, true);
  result = await next("element.explanation = 'gradient'");
  assert.equal(result.signed, false);
  assert.ok(result.tokens.every((t) => t.weight >= 0));
  assert.equal(await page.locator('#early .highlight .token.against').count(), 0);
  result = await next("element.explanation = 'random'");
  assert.equal(result.explanation, 'random');
  // classify()'s contributions: each word's signed part of the logit, shaded as the signed scores are.
  result = await next("element.explanation = 'contribution'");
  assert.equal(result.explanation, 'contribution');
  assert.equal(result.signed, true);
  assert.equal(result.scale, 'score');
  assert.equal(await page.locator('#early .highlight .token.against').count(), result.tokens.filter((t) => t.weight < 0).length);
  assert.match(await page.textContent('#early .explanation'), /Contribution: .*add up to the score less the model’s bias/);
  result = await next("element.model = 'transformer'; element.explanation = 'attention-rollout'");
  assert.equal(result.explanation, 'attention-rollout');
  assert.ok(Math.abs(result.tokens.reduce((a, t) => a + t.weight, 0) - 1) < 1e-5);
  result = await next("element.model = 'cnn'");  // no Transformer: rollout falls back to attention, then to gradient × input
  assert.equal(result.explanation, 'gradient×input');
  result = await next("element.model = 'bilstm-attention'; element.explanation = 'gradient-x-input'; element.setAttribute('text', 'Awful.')");
  assert.equal(result.explanation, 'gradient×input');
  result = await next("element.compare = 'lstm bilstm-attention'; element.explanation = 'auto'");
  // The first answer may come before the second model's: results holds null for it meanwhile.
  assert.equal(await page.evaluate(() => document.getElementById('early').results.length), 2);
  await page.waitForFunction(() => document.getElementById('early').results.every(Boolean));
  assert.deepEqual(await page.evaluate(() => document.getElementById('early').results.map((r) => r.model)), ['lstm', 'bilstm-attention']);
  assert.equal(await page.locator('#early .panel').count(), 2);
  await page.evaluate(() => { document.getElementById('early').compare = null; });
  assert.equal(await page.locator('#early .panel').count(), 1);
  // mode: a box to type into, or none.
  assert.equal(await page.locator('#early textarea').count(), 1);
  await page.evaluate(() => { document.getElementById('early').mode = 'figure'; });
  assert.equal(await page.locator('#early textarea').count(), 0);
  await page.evaluate(() => { document.getElementById('early').mode = 'edit'; });
  assert.equal(await page.inputValue('#early textarea'), 'Awful.');
  // theme: the dark palette, by attribute.
  const background = () => page.$eval('#early >> .frame', (n) => getComputedStyle(n).backgroundColor);
  const light = await background();
  await page.evaluate(() => { document.getElementById('early').theme = 'dark'; });
  assert.notEqual(await background(), light);
  // classify() resolves with the result for the text given; errors are events and rejections.
  const answer = await page.evaluate(() => document.getElementById('early').classify('What a delight.'));
  assert.equal(answer.text, 'What a delight.');
  const failure = await page.evaluate(async () => {
    const element = document.getElementById('early');
    const heard = new Promise((resolve) => element.addEventListener('attn-lens-error', (e) => resolve(e.detail.message), { once: true }));
    element.model = 'no-such-model';
    return heard;
  });
  assert.match(failure, /No model called “no-such-model” ships with attnlens \(.*bilstm-attention.*\)/);
  assert.match(await page.textContent('#early .status'), /No model called/);
  // Setting the same text again after the reader typed something else shows it again.
  await page.evaluate(() => { document.getElementById('early').model = 'gru-attention'; });
  await page.evaluate(() => document.getElementById('early').classify('Typed by the reader.'));
  result = await next("element.text = 'Awful.'");
  assert.equal(result.text, 'Awful.');
  assert.equal(await page.inputValue('#early textarea'), 'Awful.');
  // A second copy of the module (another URL: another version, say) defines nothing, throws
  // nothing, and shares the first copy's engine.
  const same = await page.evaluate(async () => {
    const first = customElements.get('attn-lens');
    const original = await import('../dist/attn-lens.js');
    const copy = await import('../dist/attn-lens.js?copy=2');
    return customElements.get('attn-lens') === first && copy.AttnLensElement !== first && copy.engine === original.engine;
  });
  assert.ok(same);
  // Removed while its model loads: classify() rejects, and nothing stays held; moved while it loads:
  // one holder, released when it leaves.
  const outcome = await page.evaluate(async () => {
    const { engine } = await import('../dist/attn-lens.js');
    const gone = document.createElement('attn-lens');
    Object.assign(gone, { model: 'lstm', loading: 'eager', text: 'Gone soon.' });
    document.querySelector('main').append(gone);
    const answer = gone.classify().then(() => 'resolved', (e) => e.message);
    gone.remove();
    const moved = document.createElement('attn-lens');
    Object.assign(moved, { model: 'transformer', loading: 'eager', text: 'Moved while loading.' });
    document.querySelector('main').append(moved);
    await new Promise((r) => setTimeout(r, 0));
    moved.remove();
    document.querySelector('main').append(moved);
    await new Promise((r) => moved.addEventListener('attn-lens-result', r, { once: true }));
    const holders = engine.stats().models.find((m) => m.key.endsWith('/transformer.safetensors'))?.holders;
    moved.remove();
    await new Promise((r) => setTimeout(r, 2500));
    return { answer: await answer, holders, after: engine.stats().models.map((m) => m.key) };
  });
  assert.match(outcome.answer, /left the document/);
  assert.equal(outcome.holders, 1);
  assert.ok(!outcome.after.some((key) => /\/(lstm|transformer)\.safetensors$/.test(key)), outcome.after.join(' '));
  assert.deepEqual(seen.errors.filter((e) => !/404/.test(e)), []);
});

test('lazy: an element far below the fold fetches nothing until the reader scrolls near it', async (t) => {
  const { page, seen } = await open(t, `${site}examples/lazy.html`, { viewport: { width: 1000, height: 700 } });
  await page.waitForTimeout(1500);
  assert.equal(await page.evaluate(() => document.getElementById('far').state), 'idle');
  assert.deepEqual(seen.requests.filter((u) => /\.(wasm|safetensors)$|worker\.js$|models\.json$/.test(u)), []);
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight * 0.6));
  await page.waitForFunction(() => document.getElementById('far').result, null, { timeout: 30000 });
  assert.equal(count(seen, '/gru-attention.safetensors'), 1);
});

test('hostile text and hostile model files are shown as text, never run', async (t) => {
  const script = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  // A translator whose vocabulary and credit carry markup, and a classifier whose provenance does.
  const craft = (file, edit) => {
    const bytes = fs.readFileSync(file);
    const length = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
    edit(header.__metadata__);
    let json = JSON.stringify(header);
    while ((json.length + 8) % 8) json += ' ';
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    return Buffer.concat([head, Buffer.from(json), bytes.subarray(8 + length)]);
  };
  const translator = craft(TRANSLATOR, (m) => {
    const vocabulary = JSON.parse(m.target_vocabulary);
    vocabulary[vocabulary.indexOf('froid')] = script;
    m.target_vocabulary = JSON.stringify(vocabulary);
    const provenance = JSON.parse(m.provenance);
    provenance.credit = script;
    m.provenance = JSON.stringify(provenance);
  });
  const classifier = craft(path.join(DIST, 'bilstm-attention.safetensors'), (m) => {
    const provenance = JSON.parse(m.provenance);
    provenance.data = script;
    m.provenance = JSON.stringify(provenance);
  });
  hostile = (req, res) => {
    const file = { '/hostile/translator.safetensors': translator, '/hostile/classifier.safetensors': classifier }[req.url.split('?')[0]];
    if (!file) return false;
    res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'application/octet-stream' });
    res.end(file);
    return true;
  };
  t.after(() => { hostile = null; });
  const { page, seen } = await open(t, `${site}examples/plain.html`);
  await allClassified(page);
  await page.evaluate(({ text, cdn }) => {
    const main = document.querySelector('main');
    const a = document.createElement('attn-lens');
    a.textContent = text;                 // in the text content
    const b = document.createElement('attn-lens');
    b.setAttribute('text', text);         // in the attribute
    b.setAttribute('model', `${cdn}hostile/classifier.safetensors?name=${text}`);
    const c = document.createElement('attn-lens-translate');
    c.setAttribute('model', `${cdn}hostile/translator.safetensors`);
    c.setAttribute('baseline', 'none');
    c.textContent = 'I am cold.';
    for (const e of [a, b, c]) e.loading = 'eager';
    main.append(a, b, c);
  }, { text: script, cdn });
  await allClassified(page, 'attn-lens, attn-lens-translate');
  await page.fill('attn-lens >> nth=0 >> textarea', `typed ${script}`);  // typed
  await page.waitForFunction((t) => document.querySelector('attn-lens').result?.text === t, `typed ${script}`);
  const shown = await page.evaluate(() => [...document.querySelectorAll('attn-lens, attn-lens-translate')].map((e) => ({
    tags: e.shadowRoot.querySelectorAll('img, script, b').length, text: e.shadowRoot.textContent })));
  for (const { tags } of shown) assert.equal(tags, 0);
  assert.ok(shown[0].text.includes(`typed ${script}`));
  assert.ok(shown[2].text.includes(script));
  assert.ok(shown[3].text.includes(script));
  assert.match(await page.evaluate(() => document.querySelector('attn-lens-translate').result.translation), /<img src=x onerror=alert\(1\)>/);
  assert.ok(shown[4].text.includes(`Trained on English–French sentence pairs from ${script}`));
  assert.equal(await page.$$eval('img, script:not([src])', (n) => n.length), 0);
  assert.deepEqual(seen.errors, []);
});

test('exports: standalone HTML that runs nothing, SVG, PNG, and a link that restores text and model', async (t) => {
  const { page, seen, context } = await open(t, `${site}examples/plain.html`);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(site).origin });
  await allClassified(page);
  const text = 'Not <b>bad</b> & "quite" <img src=x onerror=alert(1)> good.';
  await page.evaluate((t) => document.querySelector('attn-lens').classify(t), text);
  const saved = async (button) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(`attn-lens >> nth=0 >> .tools button:text-is("${button}")`)]);
    const target = path.join(ARTIFACTS, file.suggestedFilename());
    await file.saveAs(target);
    return { name: file.suggestedFilename(), target, bytes: fs.readFileSync(target) };
  };
  const html = await saved('Save as HTML');
  assert.match(html.name, /^attnlens-bilstm-attention-not-b-bad-b-quite-img\.html$/);
  const source = html.bytes.toString('utf8');
  assert.ok(source.includes('&quot;') && source.includes('&amp;') && source.includes('&lt;'), 'the text is escaped');
  assert.ok(!/<img|<b>|<script/i.test(source), 'no markup from the text');
  assert.match(source, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/);
  // Opened in the browser: the text shaded, the verdict, nothing run.
  const viewer = await context.newPage();
  const dialogs = [];
  viewer.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  await viewer.goto(`file://${html.target}`);
  assert.equal(await viewer.locator('.t').count(), (await page.evaluate(() => document.querySelector('attn-lens').result.tokens.length)));
  assert.equal(await viewer.locator('img, script, b').count(), 0);
  assert.equal((await viewer.textContent('.text')), text);
  assert.match(await viewer.textContent('.verdict'), /^(Positive|Negative), \d+\.\d % positive$/);
  assert.deepEqual(dialogs, []);
  await viewer.screenshot({ path: path.join(ARTIFACTS, 'element-export-html.png') });
  const svg = await saved('SVG');
  const parsed = await page.evaluate((source) => {
    const doc = new DOMParser().parseFromString(source, 'image/svg+xml');
    return { error: doc.querySelector('parsererror')?.textContent ?? null, words: [...doc.querySelectorAll('text')].map((n) => n.textContent).join(' '),
      shaded: doc.querySelectorAll('rect[fill-opacity]').length, scripts: doc.querySelectorAll('script, foreignObject').length };
  }, svg.bytes.toString('utf8'));
  assert.equal(parsed.error, null);
  assert.ok(parsed.words.replace(/\s+/g, '').includes('<imgsrc=xonerror=alert(1)>'), parsed.words);
  assert.ok(parsed.shaded > 5);
  assert.equal(parsed.scripts, 0);
  const png = await saved('PNG');
  assert.deepEqual([...png.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(png.bytes.readUInt32BE(16) >= 1000 && png.bytes.readUInt32BE(20) > 100, 'a 2× image of a 720-pixel layout');
  // Characters XML refuses (a form feed, a lone surrogate) still give an SVG that parses.
  await page.evaluate(() => document.querySelector('attn-lens').classify('Odd \f text \ud800 here.'));
  const odd = await saved('SVG');
  assert.equal(await page.evaluate((source) => new DOMParser().parseFromString(source, 'image/svg+xml').querySelector('parsererror'),
    odd.bytes.toString('utf8')), null);
  await page.evaluate((t) => document.querySelector('attn-lens').classify(t), text);
  // Copy link: embed.html (the default) opens on the same text and model.
  await page.evaluate(() => { document.querySelector('attn-lens').model = 'gru-attention'; });
  await page.waitForFunction(() => document.querySelector('attn-lens').result?.model === 'gru-attention');
  await page.click('attn-lens >> nth=0 >> .tools button:text-is("Copy link")');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.ok(link.startsWith(`${site}dist/embed.html#model=gru-attention&text=`), link);
  const restored = await context.newPage();
  await restored.goto(link);
  await restored.waitForFunction(() => document.querySelector('attn-lens')?.result, null, { timeout: 30000 });
  const result = await restored.evaluate(() => document.querySelector('attn-lens').result);
  assert.equal(result.text, text);
  assert.equal(result.model, 'gru-attention');
  // A relative link attribute is read against the page.
  await page.evaluate(() => { document.querySelector('attn-lens').link = '../index.html'; });
  await page.click('attn-lens >> nth=0 >> .tools button:text-is("Copy link")');
  assert.ok((await page.evaluate(() => navigator.clipboard.readText())).startsWith(`${site}index.html#model=gru-attention&text=`));
  // The demo page restores its links too, in Classify and in Compare.
  const demo = await context.newPage();
  await demo.goto(`${site}index.html#${new URLSearchParams({ model: 'cnn', text: 'Restored from a link.' })}`);
  await demo.waitForFunction(() => document.getElementById('classifier').result?.text === 'Restored from a link.', null, { timeout: 30000 });
  assert.equal(await demo.evaluate(() => document.getElementById('classifier').result.model), 'cnn');
  assert.equal(await demo.inputValue('#model'), 'cnn');
  await demo.click('#classifier >> .tools button:text-is("Copy link")');
  assert.equal(await demo.evaluate(() => navigator.clipboard.readText()),
    `${site}index.html#${new URLSearchParams({ model: 'cnn', text: 'Restored from a link.' })}`);
  await demo.goto(`${site}index.html#${new URLSearchParams({ compare: 'lstm cnn', text: 'Two models.' })}`);
  await demo.waitForFunction(() => document.getElementById('comparer').results.length === 2
    && document.getElementById('comparer').results.every((r) => r?.text === 'Two models.'), null, { timeout: 30000 });
  assert.equal(await demo.getAttribute('#tab-compare', 'aria-selected'), 'true');
  assert.deepEqual(seen.errors, []);
});

test('translator exports: the sentence pair and the heatmap as HTML, SVG and PNG, and a link that restores them', async (t) => {
  const { page, seen, context } = await open(t, `${site}examples/translate.html`);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(site).origin });
  const text = 'I like <b>red</b> & "green" apples.';
  const result = await page.evaluate((t) => document.querySelector('attn-lens-translate').translate(t), text);
  assert.ok(result.attention.length > 0 && result.sourceTokens.length > 3);
  const saved = async (button) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(`attn-lens-translate >> .tools button:text-is("${button}")`)]);
    const target = path.join(ARTIFACTS, `translate-${file.suggestedFilename()}`);
    await file.saveAs(target);
    return { name: file.suggestedFilename(), target, bytes: fs.readFileSync(target) };
  };
  const html = await saved('Save as HTML');
  assert.match(html.name, /^attnlens-translate-eng-fra-i-like-b-red-b-green\.html$/);
  const source = html.bytes.toString('utf8');
  assert.ok(!/<b>|<script/i.test(source), 'no markup from the text');
  assert.match(source, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/);
  const viewer = await context.newPage();
  await viewer.goto(`file://${html.target}`);
  // One row per French token, one column per English token, each cell's number its weight.
  assert.equal(await viewer.locator('tbody tr').count(), result.targetTokens.length);
  assert.equal(await viewer.locator('thead th').count(), result.sourceTokens.length);
  const cells = await viewer.locator('tbody td').allTextContents();
  assert.deepEqual(cells, result.attention.flat().map((w) => w.toFixed(2)));
  assert.equal(await viewer.textContent('p[lang="en"]'), text);
  assert.equal(await viewer.textContent('.french'), result.translation);
  assert.equal(await viewer.locator('b, script').count(), 0);
  await viewer.screenshot({ path: path.join(ARTIFACTS, 'element-translate-export-html.png'), fullPage: true });
  const svg = await saved('SVG');
  const parsed = await page.evaluate((source) => {
    const doc = new DOMParser().parseFromString(source, 'image/svg+xml');
    return { error: doc.querySelector('parsererror')?.textContent ?? null, texts: [...doc.querySelectorAll('text')].map((n) => n.textContent),
      cells: doc.querySelectorAll('rect[stroke]').length, scripts: doc.querySelectorAll('script, foreignObject').length };
  }, svg.bytes.toString('utf8'));
  assert.equal(parsed.error, null);
  assert.equal(parsed.cells, result.targetTokens.length * result.sourceTokens.length);
  for (const token of [...result.sourceTokens.map((s) => s.text), ...result.targetTokens]) assert.ok(parsed.texts.includes(token), token);
  assert.equal(parsed.scripts, 0);
  const png = await saved('PNG');
  assert.deepEqual([...png.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // Copy link: embed.html#kind=translate opens on the same sentence, with beam search kept.
  await page.evaluate(() => { document.querySelector('attn-lens-translate').beam = '5'; });
  await page.waitForFunction(() => document.querySelector('attn-lens-translate').result?.beam === 5);
  await page.click('attn-lens-translate >> .tools button:text-is("Copy link")');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(link, `${site}dist/embed.html#${new URLSearchParams({ kind: 'translate', beam: '5', text })}`);
  const restored = await context.newPage();
  await restored.goto(link);
  await restored.waitForFunction(() => document.querySelector('attn-lens-translate')?.result, null, { timeout: 30000 });
  const again = await restored.evaluate(() => document.querySelector('attn-lens-translate').result);
  assert.equal(again.text, text);
  assert.equal(again.beam, 5);
  assert.equal(again.translation, (await page.evaluate(() => document.querySelector('attn-lens-translate').result)).translation);
  // The demo page restores it too, in its Translate view.
  const demo = await context.newPage();
  await demo.goto(`${site}index.html#${new URLSearchParams({ kind: 'translate', text: 'Restored sentence.' })}`);
  await demo.waitForFunction(() => document.getElementById('translator').result?.text === 'Restored sentence.', null, { timeout: 30000 });
  assert.equal(await demo.getAttribute('#tab-translate', 'aria-selected'), 'true');
  await demo.click('#translator >> .tools button:text-is("Copy link")');
  assert.equal(await demo.evaluate(() => navigator.clipboard.readText()),
    `${site}index.html#${new URLSearchParams({ kind: 'translate', text: 'Restored sentence.' })}`);
  // A link without the baseline, then one with names the package does not ship and a beam out of
  // range: those are ignored, and what a link leaves out goes back to the default.
  const translated = (text) => demo.waitForFunction((t) => document.getElementById('translator').result?.text === t, text, { timeout: 30000 });
  await demo.goto(`${site}index.html#${new URLSearchParams({ kind: 'translate', baseline: 'none', beam: '5', text: 'No baseline here.' })}`);
  await translated('No baseline here.');
  let restoredResult = await demo.evaluate(() => document.getElementById('translator').result);
  assert.equal(restoredResult.baseline, null);
  assert.equal(restoredResult.beam, 5);
  await demo.goto(`${site}index.html#${new URLSearchParams({ kind: 'translate', model: 'https://evil.example/x.safetensors',
    baseline: '<img src=x onerror=alert(1)>', beam: '99', text: 'Names it does not ship.' })}`);
  await translated('Names it does not ship.');
  restoredResult = await demo.evaluate(() => document.getElementById('translator').result);
  assert.equal(restoredResult.model, 'translate-eng-fra');
  assert.equal(restoredResult.beam, 1);
  assert.equal(typeof restoredResult.baseline, 'string');  // the default baseline is back
  assert.equal(await demo.getAttribute('#translator', 'model'), null);
  assert.equal(await demo.getAttribute('#translator', 'baseline'), null);
  // tools="none": no buttons.
  await page.evaluate(() => { document.querySelector('attn-lens-translate').tools = 'none'; });
  assert.equal(await page.locator('attn-lens-translate >> .tools').isHidden(), true);
  assert.deepEqual(seen.errors, []);
});

test('accessibility: axe-core finds no violation in the examples', async (t) => {
  for (const example of ['plain', 'dark', 'twelve', 'translate', 'slide', 'strict-csp', 'iframe']) {
    const { page, seen } = await open(t, `${site}examples/${example}.html`, { bypassCSP: true });
    const target = example === 'iframe' ? (await (await page.waitForSelector('iframe')).contentFrame()) : page;
    await allClassified(target, 'attn-lens, attn-lens-translate');
    await page.addScriptTag({ path: AXE });
    if (target !== page) await target.addScriptTag({ path: AXE });
    const found = await target.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`));
    assert.deepEqual(found, [], example);
    assert.deepEqual(seen.errors, [], example);
  }
});

test('phone width and a scaled slide', async (t) => {
  for (const example of ['plain', 'twelve', 'translate']) {
    const { page } = await open(t, `${site}examples/${example}.html`, { viewport: { width: 360, height: 800 } });
    await allClassified(page, 'attn-lens, attn-lens-translate');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${example} is ${overflow}px wider than the screen`);
    if (example === 'translate') await page.screenshot({ path: path.join(ARTIFACTS, 'element-phone-translate.png'), fullPage: true });
  }
  // Reveal.js scales slides with a transform: pointing at a word still finds that word.
  const { page } = await open(t, `${site}examples/slide.html`);
  await allClassified(page);
  await page.hover('attn-lens >> .token >> nth=1');
  assert.match(await page.textContent('attn-lens >> .detail'), /^“wonderful” — weight/);
  const box = await page.locator('attn-lens').boundingBox();
  const viewport = await page.locator('.slide-viewport').boundingBox();
  assert.ok(box.x + box.width <= viewport.x + viewport.width + 1, 'the element stays inside the scaled slide');
  await page.screenshot({ path: path.join(ARTIFACTS, 'element-slide.png') });
});

test('importing the module where there is no DOM (a static-site build) defines nothing and throws nothing', async () => {
  const module = await import(path.join(DIST, 'attn-lens.js'));
  assert.equal(typeof module.AttnLensElement, 'function');
  assert.equal(typeof module.AttnLensTranslateElement, 'function');
  assert.equal(typeof module.registerModel, 'function');
  assert.equal(globalThis.customElements, undefined);
});

test('faults: the engine worker dying is reported in words and a new one serves the next keystroke; a failed download is tried again', async (t) => {
  const { page, seen } = await open(t, `${site}examples/plain.html`);
  await allClassified(page);
  const first = page.locator('attn-lens').first();
  // The worker stops dead (an uncaught error after a long task, as an out-of-memory abort would
  // end it) while the first element waits for it and the second has nothing in flight: both say so,
  // in words.
  const [worker] = page.workers();
  assert.ok(worker, 'the engine worker');
  await worker.evaluate(() => setTimeout(() => {
    const end = Date.now() + 1500;
    while (Date.now() < end);
    throw new Error('simulated crash');
  }, 0));
  await page.fill('attn-lens >> nth=0 >> textarea', 'A request the dying worker never answers.');
  await page.waitForFunction(() => document.querySelector('attn-lens').state === 'error', null, { timeout: 20000 });
  assert.match(await first.evaluate((e) => e.shadowRoot.textContent), /The attnlens engine stopped: .*simulated crash/);
  const second = page.locator('attn-lens').nth(1);
  assert.match(await second.evaluate((e) => e.shadowRoot.querySelector('.status').textContent),
    /The attnlens engine stopped: .*simulated crash\. It starts again with your next change\./);
  assert.equal(await second.evaluate((e) => e.state), 'ready');
  // The next keystroke: a new worker opens the model again and classifies.
  await page.fill('attn-lens >> nth=0 >> textarea', 'A fine film, after all.');
  await page.waitForFunction(() => {
    const e = document.querySelector('attn-lens');
    return e.state === 'ready' && e.result?.text === 'A fine film, after all.';
  }, null, { timeout: 60000 });
  const stats = await page.evaluate(async () => (await import('../dist/attn-lens.js')).engine.stats());
  assert.equal(stats.workersStarted, 2);
  assert.equal(stats.workerRunning, true);

  // A model whose download fails (the server errs once): the message names it; asking again downloads it.
  let failures = 0;
  await page.route('**/cnn.safetensors', (route) => (failures++ === 0 ? route.fulfill({ status: 503, body: '' }) : route.continue()));
  await first.evaluate((e) => { e.model = 'cnn'; });
  await page.waitForFunction(() => document.querySelector('attn-lens').state === 'error', null, { timeout: 20000 });
  assert.match(await first.evaluate((e) => e.shadowRoot.textContent), /Could not download the model cnn .*HTTP 503/);
  await page.fill('attn-lens >> nth=0 >> textarea', 'Tried again.');
  await page.waitForFunction(() => {
    const e = document.querySelector('attn-lens');
    return e.state === 'ready' && e.result?.text === 'Tried again.' && e.result.model === 'cnn';
  }, null, { timeout: 60000 });
  assert.equal(failures, 2);
  assert.deepEqual(seen.errors.filter((e) => !/simulated crash|503/.test(e)), []);
});

test('the element and the page format numbers without toLocaleString (its first call sets up ICU: 70–210 ms in Chromium)', async () => {
  // Measured in fresh Chromium contexts: the first (1234).toLocaleString('en') took 72, 211 and 95 ms
  // on the main thread, inside an element's first render; grouped() in attn-lens-view.js does the same job.
  const files = ['element/attn-lens-view.js', 'element/attn-lens.js', 'element/attn-lens-base.js', 'element/attn-lens-translate.js',
    'element/attn-lens-client.js', 'app.js', 'explain.js', 'train.js'];
  for (const file of files) assert.doesNotMatch(fs.readFileSync(path.join(ROOT, 'web', file), 'utf8'), /\.toLocaleString\(|Intl\.NumberFormat/, file);
  const { grouped } = await import(path.join(ROOT, 'web/element/attn-lens-view.js'));
  for (const value of [0, 7, 999, 1000, 12345, 1234567, 25000, -4321, 12.6])
    assert.equal(grouped(value), Math.round(value).toLocaleString('en'), String(value));
});
