// The kernel modules (src/wasm/kernel_module.cpp, chosen by src/wasm/kernel_loader.js): every
// engine runs its GEMM and GEMV from clang-19's SIMD128 module, or its relaxed-SIMD one where the
// runtime has relaxed SIMD, or its own built-in kernels. Whichever runs, the results are the same
// within 1e-5: here in node capped at SIMD128, in node with --experimental-wasm-relaxed-simd (a
// child process: relaxed SIMD), and in Chromium (which has relaxed SIMD on).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { startSite } from './browser.mjs';
import { ROOT } from './helpers.mjs';
import { MODELS, engine, kernelShapeErrors, nodeHasRelaxedSimd, results } from './kernel-results.mjs';

function assertClose(actual, expected, label) {
  assert.equal(actual.length, expected.length, label);
  actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])),
    `${label}[${i}]: ${value} against ${expected[i]}`));
}

function assertSameResults(actual, expected, label) {
  for (const name of MODELS) {
    const a = actual.models[name], e = expected.models[name];
    assertClose(a.logits, e.logits, `${label} ${name} logits`);
    assertClose(a.weights, e.weights, `${label} ${name} weights`);
    assertClose(a.gradients, e.gradients, `${label} ${name} gradient × input`);
    assertClose([a.logit], [e.logit], `${label} ${name} logit`);
  }
  assertClose(actual.losses, expected.losses, `${label} training losses`);
}

let builtIn;
const reference = async () => (builtIn ??= await results('built-in'));

test('the SIMD128 kernel module gives the built-in kernels\' results; node picks the best it validates', async () => {
  const simd = await results('simd128');
  assert.deepEqual(simd.kernels, ['simd128', 'simd128']);
  const expected = await reference();
  assert.deepEqual(expected.kernels, ['built-in', 'built-in']);
  assertSameResults(simd, expected, 'simd128');
  // Node 20 has relaxed SIMD behind a flag: without it, the loader's own choice is SIMD128.
  const best = nodeHasRelaxedSimd() ? 'relaxed-simd' : 'simd128';
  for (const name of ['attnlens', 'attnlens-train', 'attnlens-translate']) assert.equal((await engine(name)).kernels, best, name);
});

test('the SIMD128 kernel module alone: GEMM, GEMV and the fused recurrent steps on every shape class equal a float64 reference', () => {
  const worst = kernelShapeErrors('simd128');
  assert.ok(Number.isFinite(worst) && worst < 1e-6, `largest relative error ${worst}`);
});

test('an unknown kernels option is refused by name', async () => {
  await assert.rejects(engine('attnlens', 'avx'), /kernels must be 'relaxed-simd', 'simd128' or 'built-in', not avx/);
});

test('node with relaxed SIMD runs the relaxed kernel module, with the same results within 1e-5', async () => {
  const script = `import { results } from ${JSON.stringify(path.join(ROOT, 'web/tests/kernel-results.mjs'))};
    import { kernelShapeErrors } from ${JSON.stringify(path.join(ROOT, 'web/tests/kernel-results.mjs'))};
    console.log(JSON.stringify({ ...await results(), shapeError: kernelShapeErrors('relaxed') }));`;
  const run = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script],
    { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 300000 });
  assert.equal(run.status, 0, run.stderr);
  const relaxed = JSON.parse(run.stdout.trim().split('\n').at(-1));
  assert.deepEqual(relaxed.kernels, ['relaxed-simd', 'relaxed-simd']);
  assert.ok(Number.isFinite(relaxed.shapeError) && relaxed.shapeError < 1e-6, `the relaxed module alone: largest relative error ${relaxed.shapeError}`);
  assertSameResults(relaxed, await reference(), 'relaxed-simd');
});

test('Chromium runs the relaxed kernel module, with the same results within 1e-5', async () => {
  const site = await startSite();
  try {
    const page = await site.browser.newPage();
    await page.goto(site.baseUrl);
    // The same comparison as in node (kernel-compare.mjs, served with the page), on the engines in dist/.
    const got = await page.evaluate(async () => {
      const { results } = await import('./tests/kernel-compare.mjs');
      const engines = { attnlens: './dist/attnlens.js', 'attnlens-train': './dist/attnlens-train.js' };
      return results(async (name) => (await import(engines[name])).default(),
        async (name) => new Uint8Array(await (await fetch(`./dist/${name}.safetensors`)).arrayBuffer()));
    });
    assert.deepEqual(got.kernels, ['relaxed-simd', 'relaxed-simd']);
    assertSameResults(got, await reference(), 'Chromium');
  } finally {
    await site.close();
  }
});

test('a kernel module that fails to instantiate gives way to the next, and the engine still runs', () => {
  // A child node with relaxed SIMD whose WebAssembly.instantiate refuses the first `failures`
  // kernel modules (the small modules the loader instantiates; the engine's own is 390 KB).
  const run = (failures) => {
    const script = `const instantiate = WebAssembly.instantiate;
      let failures = ${failures};
      WebAssembly.instantiate = function (bytes, imports) {
        if (failures > 0 && bytes instanceof Uint8Array && bytes.length < 65536) {
          --failures;
          return Promise.reject(new Error('refused by the test'));
        }
        return instantiate.apply(this, arguments);
      };
      const { engine } = await import(${JSON.stringify(path.join(ROOT, 'web/tests/kernel-results.mjs'))});
      const fs = await import('node:fs');
      const lens = await engine('attnlens');
      const model = lens.Model.fromBytes(new Uint8Array(fs.readFileSync(${JSON.stringify(path.join(ROOT, 'models/bilstm-attention.safetensors'))})));
      console.log(JSON.stringify({ kernels: lens.kernels, logit: model.predict(['a wonderful film'])[0].logit }));`;
    const child = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 120000 });
    assert.equal(child.status, 0, child.stderr);
    return { ...JSON.parse(child.stdout.trim().split('\n').at(-1)), stderr: child.stderr };
  };
  const [none, one, both] = [run(0), run(1), run(2)];
  assert.equal(none.kernels, 'relaxed-simd');
  assert.equal(one.kernels, 'simd128');
  assert.match(one.stderr, /the relaxed-simd kernels could not be loaded: Error: refused by the test/);
  assert.equal(both.kernels, 'built-in');
  assert.match(both.stderr, /the simd128 kernels could not be loaded/);
  for (const r of [one, both]) assert.ok(Math.abs(r.logit - none.logit) < 1e-5 * Math.max(1, Math.abs(none.logit)), `${r.kernels}: logit ${r.logit} vs ${none.logit}`);
});
