// The explanation API (src/wasm/explain_js.hpp): in the engine with gradients (attnlens-train.js)
// model.explain, model.faithfulness and model.attentionExperiments give what the native
// `attnlens explain` gives, with offsets in UTF-16 code units; bad options are clear errors. The
// small engine (attnlens.js) gives the same for the forward-only methods and refuses the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, loadEngine, loadTrainEngine, runCli } from './helpers.mjs';

const train = await loadTrainEngine();
const small = await loadEngine();
const TEXT = 'A dull plot — but the music is lovely 🎻, and the ending works.';
const modelFile = (name) => path.join(ROOT, 'models', `${name}.safetensors`);
const native = (name, args) =>
  JSON.parse(runCli(['explain', '--model', modelFile(name), '--json', ...args], TEXT + '\n').stdout);

test('explain: every method matches the native engine, offsets in UTF-16', () => {
  const model = train.Model.fromBytes(new Uint8Array(fs.readFileSync(modelFile('gru-attention'))));
  try {
    for (const [method, options] of [
      ['attention', {}], ['gradient', {}], ['gradient-x-input', {}],
      ['integrated-gradients', { steps: 20, rule: 'riemann', baseline: 'pad' }],
      ['occlusion', { window: 3, occlude: 'pad' }], ['random', { seed: 4 }], ['contribution', {}],
    ]) {
      const result = model.explain(TEXT, { method, ...options });
      const args = ['--method', method];
      for (const [key, value] of Object.entries(options)) args.push(`--${key}`, String(value));
      const expected = native('gru-attention', args);
      assert.equal(result.method, method);
      assert.equal(result.label, expected.label);
      assert.ok(Math.abs(result.probability - expected.probability) < 1e-6);
      assert.equal(result.tokens.length, expected.tokens.length);
      result.tokens.forEach((token, i) => {
        assert.equal(token.text, expected.tokens[i].text);
        assert.equal(TEXT.slice(token.start, token.end).toLowerCase(), token.text, 'offsets are UTF-16');
        assert.ok(Math.abs(token.score - expected.tokens[i].score) < 1e-5, `${method} token ${i}`);
      });
      assert.equal('completenessGap' in result, method === 'integrated-gradients' || method === 'contribution');
      if (method === 'contribution') assert.ok(result.completenessGap < 1e-4, 'a one-layer head: the parts add up to F less its bias');
    }
  } finally {
    model.delete();
  }
});

test('faithfulness and attention experiments: the native figures, and clear errors', () => {
  const model = train.Model.fromBytes(new Uint8Array(fs.readFileSync(modelFile('bilstm-attention'))));
  try {
    const f = model.faithfulness(TEXT, { methods: ['attention', 'occlusion'] });
    const expected = native('bilstm-attention', ['--method', 'occlusion', '--faithfulness']).faithfulness;
    const occlusion = f.methods.occlusion;
    assert.ok(Math.abs(occlusion.aopcComprehensiveness - expected.aopc_comprehensiveness) < 1e-6);
    assert.ok(Math.abs(occlusion.aopcSufficiency - expected.aopc_sufficiency) < 1e-6);
    assert.ok(Math.abs(occlusion.kendallTauLoo - 1) < 1e-9, 'occlusion by deletion is leave-one-out');
    assert.deepEqual(Object.keys(occlusion.comprehensiveness).sort(), ['1', '10', '20', '5', '50']);
    assert.equal(occlusion.deletionCurve.length, 21);
    assert.ok(Math.abs(f.random.aopcComprehensiveness - expected.random.aopc_comprehensiveness) < 1e-6);
    assert.ok('attention' in f.methods);

    const x = model.attentionExperiments(TEXT, { permutations: 50 });
    assert.ok(x.adversarial.absChange <= 0.01 + 1e-9);
    assert.ok(x.adversarial.jsd > 0 && x.adversarial.jsd <= Math.log(2));
    assert.equal(x.adversarial.attention.length, x.attention.length);
    assert.ok(Math.abs(x.attention.reduce((a, b) => a + b, 0) - 1) < 1e-5);

    assert.throws(() => model.explain(TEXT, { method: 'lime' }), /unknown explanation method "lime"/);
    assert.throws(() => model.explain(TEXT, { method: 'integrated-gradients', steps: 0 }), /between 1 and 1000/);
    assert.throws(() => model.explain(TEXT, { method: 'occlusion', window: 2 }), /window must be 1 or 3/);
    assert.throws(() => model.explain(TEXT, { steps: 'many' }), /steps must be a whole number/);
    assert.throws(() => model.explain(TEXT, 'occlusion'), /options must be an object/);
    assert.throws(() => model.faithfulness(TEXT, { methods: [] }), /non-empty array/);
    assert.throws(() => model.explain(TEXT, { method: 'random', seed: -1 }), /seed must be a whole number from 0 to 2\^53/);
    assert.throws(() => model.explain(TEXT, { method: 'integrated-gradients', steps: Infinity }), /steps must be a whole number/);
    assert.throws(() => model.explain(TEXT, { method: 'occlusion', window: 2 ** 40 }), /window must be a whole number/);
    assert.throws(() => model.faithfulness(TEXT, { removal: 'blank' }), /removal must be 'delete' or 'pad'/);
  } finally {
    model.delete();
  }
  const cnn = train.Model.fromBytes(new Uint8Array(fs.readFileSync(modelFile('cnn'))));
  try {
    assert.throws(() => cnn.attentionExperiments(TEXT), /no attention pooling/);
    const f = cnn.faithfulness(TEXT);  // a model without attention: gradient × input by default
    assert.deepEqual(Object.keys(f.methods), ['gradient-x-input']);
  } finally {
    cnn.delete();
  }
});

test('the small engine (attnlens.js) runs the forward-only methods as the engine with gradients does', () => {
  const close = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);
  for (const [name, methods] of [
    ['bilstm-attention', [['attention', {}], ['occlusion', {}], ['occlusion', { window: 3, occlude: 'pad' }], ['random', { seed: 9 }],
      ['contribution', {}]]],
    ['ngram-path/gru-attention', [['contribution', {}], ['attention', {}]]],
    ['transformer', [['attention', { layer: 1, head: 0 }], ['attention-rollout', {}], ['occlusion', {}]]],
  ]) {
    const bytes = new Uint8Array(fs.readFileSync(modelFile(name)));
    const lite = small.Model.fromBytes(bytes), full = train.Model.fromBytes(bytes);
    try {
      for (const [method, options] of methods) {
        const a = lite.explain(TEXT, { method, ...options }), b = full.explain(TEXT, { method, ...options });
        assert.equal(a.aggregation, b.aggregation);
        assert.equal(a.tokens.length, b.tokens.length);
        a.tokens.forEach((t, i) => close(t.score, b.tokens[i].score, `${name} ${method} token ${i}`));
      }
      const options = { methods: name === 'transformer' ? ['attention', 'occlusion', 'random'] : ['attention', 'contribution', 'occlusion', 'random'] };
      const fa = lite.faithfulness(TEXT, options), fb = full.faithfulness(TEXT, options);
      for (const method of options.methods) {
        for (const key of ['aopcComprehensiveness', 'aopcSufficiency', 'decisionFlipFraction'])
          close(fa.methods[method][key] ?? 0, fb.methods[method][key] ?? 0, `${name} ${method} ${key}`);
        fa.methods[method].deletionCurve.forEach(([, p], i) =>
          close(p, fb.methods[method].deletionCurve[i][1], `${name} ${method} curve ${i}`));
      }
      close(fa.random.aopcComprehensiveness, fb.random.aopcComprehensiveness, `${name} random`);
      if (name !== 'transformer') {
        const xa = lite.attentionExperiments(TEXT, { permutations: 30 });
        const xb = full.attentionExperiments(TEXT, { permutations: 30 });
        close(xa.permuted.medianAbsChange, xb.permuted.medianAbsChange, 'permuted');
        close(xa.uniform.absChange, xb.uniform.absChange, 'uniform');
        close(xa.adversarial.jsd, xb.adversarial.jsd, 'adversarial');
      }
      // Gradient methods are the other engine's: a clear error naming it, alone or among others.
      for (const method of ['gradient', 'gradient-x-input', 'integrated-gradients'])
        assert.throws(() => lite.explain(TEXT, { method }), /needs gradients.*attnlens-train\.js/);
      assert.throws(() => lite.faithfulness(TEXT, { methods: ['occlusion', 'integrated-gradients'] }),
        /needs gradients.*attnlens-train\.js/);
    } finally {
      lite.delete();
      full.delete();
    }
  }
});

test('attnlens.wasm stays within its 400 KB budget with the forward-only explanations in it', () => {
  const bytes = fs.statSync(path.join(ROOT, 'web', 'dist', 'attnlens.wasm')).size;
  assert.ok(bytes <= 400_000, `attnlens.wasm is ${bytes} bytes, over the 400,000-byte budget`);
});

test('contributions: auto on a model with an n-gram path beside its attention, the native figures, signed', () => {
  const text = 'The acting was wooden and the plot dull, but the ending was surprisingly moving.';
  const run = (name, args) => JSON.parse(runCli(['classify', '--model', modelFile(name), '--json', ...args], text + '\n').stdout);
  for (const [name, auto] of [['ngram-path/gru-attention', 'contribution'], ['ngram-path/bilstm-attention', 'contribution'], ['bilstm-attention', 'attention']]) {
    const model = small.Model.fromBytes(new Uint8Array(fs.readFileSync(modelFile(name))));
    try {
      assert.equal(model.info().ngramPath, name.startsWith('ngram-path/') ? 3 : 0);
      const result = model.classify(text);
      assert.equal(result.explanation, auto, name);
      const asked = model.classify(text, { explanation: 'contribution' });
      const expected = run(name, ['--explanation', 'contribution']);
      assert.equal(asked.explanation, 'contribution');
      assert.equal(asked.signed, true);
      assert.equal(asked.scale, 'score');
      assert.equal(asked.tokens.length, expected.tokens.length);
      asked.tokens.forEach((token, i) => assert.ok(Math.abs(token.weight - expected.tokens[i].weight) < 1e-5, `${name} token ${i}`));
      assert.ok(asked.tokens.some((t) => t.weight < 0) && asked.tokens.some((t) => t.weight > 0), 'evidence both ways in this review');
      // The parts add up to the predicted class's logit less the head's bias (explain reports it).
      const e = model.explain(text, { method: 'contribution' });
      const total = e.tokens.reduce((sum, t) => sum + t.score, 0);
      assert.ok(Math.abs(total - (e.output - e.baselineOutput)) < 1e-4);
      assert.ok(Math.abs(e.output - Math.abs(asked.logit)) < 1e-6);
    } finally {
      model.delete();
    }
  }
  const lstm = small.Model.fromBytes(new Uint8Array(fs.readFileSync(modelFile('lstm'))));
  try {
    assert.throws(() => lstm.classify(text, { explanation: 'contribution' }), /no attention pooling/);
    assert.throws(() => lstm.explain(text, { method: 'contribution' }), /contribution needs attention pooling/);
  } finally {
    lstm.delete();
  }
});
