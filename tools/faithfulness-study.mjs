// The faithfulness study (issue 17): for each shipped classifier and explanation method, over a
// fixed sample of IMDB test reviews, how much the prediction rests on the tokens the method ranks
// highest (ERASER's comprehensiveness and sufficiency, against a random ordering), when the label
// flips, how the ranking agrees with leave-one-out and with gradient × input (Kendall τ, Jain &
// Wallace's measure), and — for the attention-pooling models — what permuted, uniform and
// adversarial attention do to the prediction. Writes models/study/faithfulness/{results.json,
// README.md,*.svg}.
//
//   node tools/faithfulness-study.mjs [--reviews N] [--max-tokens N] [--threads N] [--data DIR] [--report-only]
//   node tools/faithfulness-study.mjs --only lstm,cnn   (re-runs those models; the others' figures are kept)
//
// Every review is computed alone with its own seed, so one model's figures are the same whether it
// runs with the others or alone (--only): a merge checks the sample is the same and records the
// command that made each model's figures. Each model's figures also record the SHA-256 of the file
// they were measured on, so a retrained model cannot inherit its predecessor's figures (the tests
// compare it with the file in the repository).
// The numbers come from `attnlens faithfulness-study` (src/cli/study.cpp); this script runs it,
// records the command, and makes the Markdown and the figures from the JSON alone.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as vega from 'vega';
import { compile } from 'vega-lite';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'build/release/attnlens');
const OUT = path.join(ROOT, 'models/study/faithfulness');
// The shipped architectures, and the page's default (the BiGRU + attention with an n-gram path).
export const MODELS = ['lstm', 'cnn', 'bilstm-attention', 'gru-attention', 'transformer', 'gru-attention-ngrams'];
export const METHODS = ['attention', 'contribution', 'attention-rollout', 'gradient', 'gradient-x-input', 'integrated-gradients', 'occlusion', 'random'];

// Published figures the study is read beside, with their sources. Kept here, not in the JSON:
// they are not ours.
export const PUBLISHED = {
  jainWallace: {
    source: 'Jain & Wallace 2019, "Attention is not Explanation" (NAACL): IMDB reviews under 400 tokens, BiLSTM encoder with additive (tanh) attention; '
      + 'github.com/successar/AttentionExplanation, graph_outputs/CorrStats_kendalltau/imdb+lstm+tanh.csv (Kendall τ over all tokens of each test review, '
      + 'mean ± sd; importances |gradient × input| and |leave-one-out Δp|, the gradient taken with the attention detached)',
    tauGradient: { mean: 0.437, sd: 0.061 },
    tauLeaveOneOut: { mean: 0.341, sd: 0.070 },
    tauGradientLeaveOneOut: { mean: 0.517, sd: 0.100 },
  },
};

// `attnlens faithfulness-study` keys a model's figures by its architecture, or by its path when two
// files share one (gru-attention and gru-attention-ngrams): here they go under the file's name.
const byName = (models) => Object.fromEntries(Object.values(models).map((m) => [path.basename(m.file, '.safetensors'), m]));

function run(args) {
  const result = spawnSync(CLI, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`attnlens ${args.join(' ')} failed (exit ${result.status})`);
  return result.stdout;
}

// The file a model's figures were measured on, by content.
export function fileDigest(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(path.join(ROOT, file))).digest('hex');
}

export function studyArgs(options, models = MODELS) {
  const args = ['faithfulness-study', '--models', ...models.map((m) => `models/${m}.safetensors`),
    '--reviews', String(options.reviews ?? 1000), '--max-tokens', String(options['max-tokens'] ?? 400),
    '--threads', String(options.threads ?? 2)];
  if (options.data) args.push('--data', options.data);
  return args;
}

// JSON with arrays of numbers on one line (the per-review figures would otherwise take a line each).
export function stringify(value) {
  const text = JSON.stringify(value, null, 2);
  return `${text.replace(/\[\n\s+([-0-9.e,\s\nnul]+?)\n\s+\]/g, (_, inner) => `[${inner.split(/,\s*\n\s*/).join(', ')}]`)}\n`;
}

// The per-review figures (they feed the histograms) kept to 4 decimals; the summaries keep full precision.
export function roundPerReview(results) {
  const round = (list) => list.map((v) => (v == null ? v : Math.round(v * 1e4) / 1e4));
  for (const model of Object.values(results.models)) {
    for (const entry of [...Object.values(model.methods), model.attention_experiments].filter(Boolean))
      for (const key of Object.keys(entry.per_review)) entry.per_review[key] = round(entry.per_review[key]);
  }
  return results;
}

export const fixed = (v, digits = 3) => (v == null || Number.isNaN(v) ? '—' : v.toFixed(digits));
const signed = (v, digits = 3) => (v == null ? '—' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`);
const percent = (v) => (v == null ? '—' : `${(100 * v).toFixed(1)} %`);
const methodsOf = (model) => METHODS.filter((m) => model.methods[m]);

function ranked(model, field) {
  return methodsOf(model).filter((m) => m !== 'random').sort((a, b) => model.methods[b][field] - model.methods[a][field]);
}

// Is attention a faithful explanation of this model? The rule, stated in the README: its AOPC
// comprehensiveness must be at least twice a random ordering's (else: not faithful), and at least
// three quarters of the best method's (else: partly — better than chance, but it misses much of
// what the model relies on).
export function verdict(model) {
  const attention = model.methods.attention;
  const best = ranked(model, 'aopc_comprehensiveness')[0];
  const share = attention.aopc_comprehensiveness / model.methods[best].aopc_comprehensiveness;
  if (attention.aopc_comprehensiveness < 2 * attention.random_aopc_comprehensiveness) {
    return 'Verdict: **not faithful** — removing the tokens attention weighs most changes the prediction little more than removing random ones.';
  }
  if (share < 0.75) {
    return `Verdict: **partly faithful** — removing the tokens attention weighs most changes the prediction `
      + `${(attention.aopc_comprehensiveness / attention.random_aopc_comprehensiveness).toFixed(1)}× as much as removing random ones, `
      + `but only ${Math.round(100 * share)} % as much as removing ${best}'s: attention misses much of what this model relies on.`;
  }
  return `Verdict: **faithful** — removing the tokens attention weighs most changes the prediction ${Math.round(100 * share)} % as much as `
    + `removing ${best}'s, the most comprehensive method's.`;
}

// What the numbers say, in words made from the numbers (nothing here is typed by hand).
export function reading(results) {
  const lines = [];
  const jw = PUBLISHED.jainWallace;
  for (const name of MODELS) {
    const model = results.models[name];
    if (!model) continue;
    const attention = model.methods.attention;
    const byComprehensiveness = ranked(model, 'aopc_comprehensiveness');
    const best = byComprehensiveness[0];
    const parts = [`**${name}**: the most comprehensive ranking is ${best} (AOPC ${fixed(model.methods[best].aopc_comprehensiveness)}`
      + ` against ${fixed(model.methods[best].random_aopc_comprehensiveness)} for a random one).`];
    if (attention) {
      const rank = byComprehensiveness.indexOf('attention') + 1;
      const ratio = attention.aopc_comprehensiveness / attention.random_aopc_comprehensiveness;
      parts.push(`Attention ranks ${rank} of ${byComprehensiveness.length} methods by comprehensiveness `
        + `(${fixed(attention.aopc_comprehensiveness)}, ${fixed(ratio, 1)}× random). Its agreement with the magnitudes of leave-one-out is τ = `
        + `${fixed(attention.kendall_tau_abs_loo_mean, 2)} ± ${fixed(attention.kendall_tau_abs_loo_sd, 2)} `
        + `(Jain & Wallace's BiLSTM: ${fixed(jw.tauLeaveOneOut.mean, 2)} ± ${fixed(jw.tauLeaveOneOut.sd, 2)}), with those of gradient × input `
        + `τ = ${fixed(attention.kendall_tau_abs_gradient_x_input_mean, 2)} ± ${fixed(attention.kendall_tau_abs_gradient_x_input_sd, 2)} `
        + `(theirs: ${fixed(jw.tauGradient.mean, 2)} ± ${fixed(jw.tauGradient.sd, 2)}); with signed leave-one-out, `
        + `τ = ${fixed(attention.kendall_tau_loo_mean, 2)} ± ${fixed(attention.kendall_tau_loo_sd, 2)}.`);
      const x = model.attention_experiments;
      if (x) {
        parts.push(`Shuffling its attention moves p by a median ${fixed(x.permuted_median_abs_change_median)}; uniform attention by `
          + `${fixed(x.uniform_abs_change_median)}; attention at a mean JSD of ${fixed(x.adversarial_jsd_mean)} (at most ln 2 ≈ 0.693) from the `
          + `model's keeps p within ${fixed(x.adversarial_abs_change_max)}.`);
      }
      parts.push(verdict(model));
      const contribution = model.methods.contribution;
      if (contribution) {
        parts.push(`Its contributions (α_t · w·h_t, the attention weight times what the token's state adds to the logit) rank `
          + `${byComprehensiveness.indexOf('contribution') + 1} of ${byComprehensiveness.length} (${fixed(contribution.aopc_comprehensiveness)}, `
          + `${fixed(contribution.aopc_comprehensiveness / attention.aopc_comprehensiveness, 1)}× attention's), at no cost beyond the forward pass.`);
      }
    }
    lines.push(parts.join(' '));
  }
  return lines;
}

function markdown(results) {
  const lines = [
    '# The faithfulness study: can you trust the highlight?',
    '',
    'Generated by `node tools/faithfulness-study.mjs` (see `tools/faithfulness-study`); every number below comes from',
    '`results.json` beside this file, which `attnlens faithfulness-study` wrote (command at the end).',
    '',
    `Sample: ${results.sample}; ${fixed(results.tokens_mean, 0)} tokens on average. Removing a token deletes it (the`,
    'page\'s default too). p is the probability of the class predicted on the whole review.',
    '',
    '- **AOPC comprehensiveness** (higher: more faithful): the mean over k = 1, 5, 10, 20, 50 % of the tokens of',
    '  p(x) − p(x without the method\'s top k) (ERASER, DeYoung et al. 2020). **Sufficiency** (lower: more faithful):',
    '  p(x) − p(the top k alone). Beside each, a random ordering of the same review (mean of 10 seeded permutations).',
    '- **flip@1**: the share of reviews whose label flips when the top token is removed; **to flip**: the median',
    `  share of tokens removed in rank order before it flips (found on a grid of ${results.decision_flip_grid} counts, refined to the`,
    '  token), and how many reviews never flip.',
    '- **τ LOO**, **τ g×i**: Kendall τ-b between the method\'s scores and leave-one-out (p(x) − p(x without the',
    '  token)), and signed gradient × input, mean ± standard deviation over the reviews; **τ |LOO|**, **τ |g×i|**: the',
    '  same with their magnitudes, as Jain & Wallace compute it.',
    `- **gap**: the mean completeness gap |Σ scores − (F(x) − F(x′))| of integrated gradients (${results.integrated_gradients_steps}`,
    '  Gauss–Legendre points, zero baseline) and of the contributions (F(x′): the head\'s bias; rounding alone).',
    '- **contribution** (attention-pooling models): α_t · ∂F/∂α_t, the token\'s attention weight times what its encoder',
    '  state adds to the logit through the one-layer head (plus, with an n-gram path, its share of the path): the logit split exactly.',
    '',
    '| model | method | AOPC comp. (random) | AOPC suff. (random) | flip@1 | to flip (never) | τ LOO | τ \\|LOO\\| | τ g×i | τ \\|g×i\\| | gap |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const name of MODELS) {
    const model = results.models[name];
    if (!model) continue;
    for (const method of methodsOf(model)) {
      const m = model.methods[method];
      lines.push(`| ${name} | ${method} | ${fixed(m.aopc_comprehensiveness)} (${fixed(m.random_aopc_comprehensiveness)}) | `
        + `${fixed(m.aopc_sufficiency)} (${fixed(m.random_aopc_sufficiency)}) | ${percent(m.decision_flip_top1_rate)} | `
        + `${percent(m.decision_flip_fraction_median)} (${m.never_flipped}) | ${fixed(m.kendall_tau_loo_mean, 2)} ± ${fixed(m.kendall_tau_loo_sd, 2)} | `
        + `${fixed(m.kendall_tau_abs_loo_mean, 2)} ± ${fixed(m.kendall_tau_abs_loo_sd, 2)} | `
        + `${method === 'gradient-x-input' ? '—' : `${fixed(m.kendall_tau_gradient_x_input_mean, 2)} ± ${fixed(m.kendall_tau_gradient_x_input_sd, 2)}`} | `
        + `${fixed(m.kendall_tau_abs_gradient_x_input_mean, 2)} ± ${fixed(m.kendall_tau_abs_gradient_x_input_sd, 2)} | `
        + `${m.completeness_gap_mean == null ? '—' : fixed(m.completeness_gap_mean, 4)} |`);
    }
  }
  lines.push('', '## The attention experiments (Jain & Wallace 2019; Wiegreffe & Pinter 2019)', '',
    'Keeping everything the encoder computed and changing only the attention weights: the median over reviews of the',
    'median |Δp| over 100 permutations of the weights; |Δp| with uniform weights; and adversarial weights found by',
    'Adam (4 starts × 300 steps) to be as far as possible (Jensen–Shannon divergence, natural log, at most ln 2) from the',
    'model\'s while keeping |Δp| ≤ 0.01.', '',
    '| model | permuted: median \\|Δp\\| | uniform: median \\|Δp\\| | adversarial JSD: mean | median | largest \\|Δp\\| |',
    '|---|---|---|---|---|---|');
  for (const name of MODELS) {
    const x = results.models[name]?.attention_experiments;
    if (!x) continue;
    lines.push(`| ${name} | ${fixed(x.permuted_median_abs_change_median, 4)} | ${fixed(x.uniform_abs_change_median, 4)} | `
      + `${fixed(x.adversarial_jsd_mean)} | ${fixed(x.adversarial_jsd_median)} | ${fixed(x.adversarial_abs_change_max, 4)} |`);
  }
  const jw = PUBLISHED.jainWallace;
  lines.push('', '## Beside the published figures', '',
    `- ${jw.source}: τ between attention and gradients ${fixed(jw.tauGradient.mean)} ± ${fixed(jw.tauGradient.sd)}, between attention`,
    `  and leave-one-out ${fixed(jw.tauLeaveOneOut.mean)} ± ${fixed(jw.tauLeaveOneOut.sd)}, between gradients and leave-one-out `
      + `${fixed(jw.tauGradientLeaveOneOut.mean)} ± ${fixed(jw.tauGradientLeaveOneOut.sd)}.`,
    '  Compare the τ |LOO| and τ |g×i| columns, their measure with two differences: their gradient is taken with the attention',
    '  detached, ours through it; and theirs is of the output probability, ours of the logit (a factor per review, the same',
    '  ranking). Our sample keeps reviews of at most 400 of our tokens; their IMDB preprocessing keeps reviews under 400 of theirs.',
    '- ERASER (DeYoung et al. 2020) defines comprehensiveness and sufficiency as AOPC over the top 1, 5, 10, 20 and 50 % of',
    '  the tokens (their Table 4; rationale_benchmark/metrics.py in github.com/jayded/eraserbenchmark), which is what we',
    '  compute; their sentiment data (Movie Reviews, Zaidan et al.) and models differ from ours, so we set no number of theirs beside ours.',
    '', '## What the numbers say', '', ...reading(results).flatMap((l) => [l, '']),
    'Figures: [AOPC comprehensiveness by method](aopc.svg), [Kendall τ with |leave-one-out|, per review](kendall-tau.svg),',
    '[mean deletion curves](deletion-curves.svg), [adversarial attention JSD, per review](adversarial-jsd.svg).', '',
    `Command (${Math.round(results.seconds)} s on this 2-core machine, ${results.threads} thread${results.threads === 1 ? '' : 's'}; `
      + 'the figures do not depend on the thread count):', '',
    `    ${results.command}`);
  const reruns = new Map();  // command → the models whose figures it made
  for (const name of MODELS.filter((n) => results.models[n]?.command))
    reruns.set(results.models[name].command, [...(reruns.get(results.models[name].command) ?? []), name]);
  if (reruns.size) {
    lines.push('', 'Re-run since (`node tools/faithfulness-study.mjs --only …`; a model\'s figures do not depend on the others run with it):', '');
    for (const [command, names] of reruns) {
      const seconds = names.reduce((sum, name) => sum + results.models[name].seconds, 0);
      lines.push(`    ${command}`, '', `  ${names.join(', ')}: ${Math.round(seconds)} s.`, '');
    }
    lines.pop();
  }
  return `${lines.join('\n')}\n`;
}

const schema = 'https://vega.github.io/schema/vega-lite/v5.json';

function aopcSpec(results) {
  const values = MODELS.flatMap((name) => {
    const model = results.models[name];
    return model ? methodsOf(model).map((method) => ({ model: name, method, aopc: model.methods[method].aopc_comprehensiveness,
      random: model.methods[method].random_aopc_comprehensiveness })) : [];
  });
  return {
    $schema: schema, background: 'white', title: 'AOPC comprehensiveness (higher: more faithful); black tick: random ordering',
    data: { values },
    facet: { column: { field: 'model', type: 'nominal', sort: MODELS, title: null } },
    resolve: { scale: { x: 'independent' } },  // each model's own methods
    spec: {
      width: { step: 20 }, height: 220,
      layer: [
        { mark: 'bar', encoding: { x: { field: 'method', type: 'nominal', sort: METHODS, title: null }, y: { field: 'aopc', type: 'quantitative', title: 'AOPC comprehensiveness' },
          color: { field: 'method', type: 'nominal', sort: METHODS, legend: null } } },
        { mark: { type: 'tick', color: 'black', thickness: 2 }, encoding: { x: { field: 'method', type: 'nominal', sort: METHODS }, y: { field: 'random', type: 'quantitative' } } },
      ],
    },
  };
}

function tauSpec(results) {
  const values = MODELS.flatMap((name) => {
    const model = results.models[name];
    if (!model) return [];
    return methodsOf(model).flatMap((method) => model.methods[method].per_review.kendall_tau_abs_loo
      .filter((tau) => tau != null).map((tau) => ({ model: name, method, tau })));
  });
  return {
    $schema: schema, background: 'white',
    title: `Kendall τ with |leave-one-out|, per review (dashed: Jain & Wallace's BiLSTM + attention, ${PUBLISHED.jainWallace.tauLeaveOneOut.mean})`,
    data: { values },
    facet: { column: { field: 'model', type: 'nominal', sort: MODELS, title: null } },
    resolve: { scale: { x: 'independent' } },  // each model's own methods
    spec: {
      width: { step: 20 }, height: 220,
      layer: [
        { mark: { type: 'boxplot', extent: 'min-max', size: 12 }, encoding: { x: { field: 'method', type: 'nominal', sort: METHODS, title: null },
          y: { field: 'tau', type: 'quantitative', title: 'Kendall τ with |leave-one-out|', scale: { domain: [-1, 1] } },
          color: { field: 'method', type: 'nominal', sort: METHODS, legend: null } } },
        // One rule a panel (an aggregate row per model), not one per review.
        { transform: [{ aggregate: [{ op: 'count', as: 'reviews' }], groupby: ['model'] }],
          mark: { type: 'rule', strokeDash: [4, 4], color: 'black' }, encoding: { y: { datum: PUBLISHED.jainWallace.tauLeaveOneOut.mean } } },
      ],
    },
  };
}

function curvesSpec(results) {
  const values = MODELS.flatMap((name) => {
    const model = results.models[name];
    return model ? methodsOf(model).flatMap((method) => model.methods[method].deletion_curve_mean.map(([fraction, p]) => ({ model: name, method, fraction, p }))) : [];
  });
  return {
    $schema: schema, background: 'white', title: 'Mean p of the predicted class as tokens are deleted in rank order',
    data: { values },
    facet: { column: { field: 'model', type: 'nominal', sort: MODELS, title: null } },
    spec: {
      width: 150, height: 200, mark: { type: 'line' },
      encoding: { x: { field: 'fraction', type: 'quantitative', title: 'share of tokens deleted', axis: { format: '%' } },
        y: { field: 'p', type: 'quantitative', title: 'mean p', scale: { domain: [0, 1] } },
        color: { field: 'method', type: 'nominal', sort: METHODS, legend: { orient: 'bottom', labelLimit: 0, columns: 4 } } },
    },
  };
}

function jsdSpec(results) {
  const values = MODELS.flatMap((name) => {
    const x = results.models[name]?.attention_experiments;
    return x ? x.per_review.adversarial_jsd.map((jsd) => ({ model: name, jsd })) : [];
  });
  return {
    $schema: schema, background: 'white', title: 'Adversarial attention: JSD from the model\'s, per review (|Δp| ≤ 0.01)',
    data: { values }, width: 420, height: 220,
    mark: { type: 'bar', opacity: 0.7 },
    encoding: { x: { field: 'jsd', type: 'quantitative', bin: { maxbins: 35, extent: [0, 0.7] }, title: 'JSD (natural log; at most ln 2)' },
      y: { aggregate: 'count', type: 'quantitative', stack: null, title: 'reviews' },
      color: { field: 'model', type: 'nominal', legend: { orient: 'bottom' } } },
  };
}

async function toSvg(spec) {
  // Vega-Lite warns that the facets' independent x scales union one field across the facets: they do, on purpose.
  const view = new vega.View(vega.parse(compile(spec, { logger: vega.logger(vega.Error) }).spec), { renderer: 'none' });
  return view.toSVG();
}

// What the page's Study view loads: results.json without the per-review figures, plus the
// reading and the published figures.
export function summary(results) {
  const strip = (object) => Object.fromEntries(Object.entries(object).filter(([key]) => key !== 'per_review'));
  const models = {};
  for (const [name, model] of Object.entries(results.models)) {
    models[name] = { ...strip(model), methods: Object.fromEntries(Object.entries(model.methods).map(([m, v]) => [m, strip(v)])) };
    if (model.attention_experiments) models[name].attention_experiments = strip(model.attention_experiments);
  }
  return { ...results, models, reading: reading(results), published: PUBLISHED };
}

export async function writeReport(results, dir = OUT) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'results.json'), stringify(results));
  fs.writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(summary(results), null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'README.md'), markdown(results));
  fs.writeFileSync(path.join(dir, 'aopc.svg'), await toSvg(aopcSpec(results)));
  fs.writeFileSync(path.join(dir, 'kendall-tau.svg'), await toSvg(tauSpec(results)));
  fs.writeFileSync(path.join(dir, 'deletion-curves.svg'), await toSvg(curvesSpec(results)));
  fs.writeFileSync(path.join(dir, 'adversarial-jsd.svg'), await toSvg(jsdSpec(results)));
}

async function main() {
  const { values } = parseArgs({ options: {
    reviews: { type: 'string' }, 'max-tokens': { type: 'string' }, threads: { type: 'string' }, data: { type: 'string' },
    'report-only': { type: 'boolean', default: false }, from: { type: 'string' }, only: { type: 'string' },
  } });
  const resultsPath = path.join(OUT, 'results.json');
  let results;
  if (values['report-only']) {
    results = JSON.parse(fs.readFileSync(values.from ?? resultsPath, 'utf8'));
  } else if (values.only) {
    const names = values.only.split(',');
    for (const n of names) if (!MODELS.includes(n)) throw new Error(`unknown model '${n}' (${MODELS.join(', ')})`);
    results = JSON.parse(fs.readFileSync(resultsPath, 'utf8'));
    const args = studyArgs(values, names);
    const digests = Object.fromEntries(names.map((name) => [name, fileDigest(`models/${name}.safetensors`)]));
    console.error(`running attnlens ${args.join(' ')}`);
    const rerun = roundPerReview(JSON.parse(run(args)));
    rerun.models = byName(rerun.models);
    for (const key of Object.keys(rerun).filter((k) => k !== 'models' && k !== 'seconds'))
      if (JSON.stringify(rerun[key]) !== JSON.stringify(results[key]))
        throw new Error(`the re-run's ${key} differs from results.json's (${JSON.stringify(rerun[key])}); run the whole study`);
    for (const name of names)
      results.models[name] = { ...rerun.models[name], sha256: digests[name], command: `attnlens ${args.join(' ')}` };
  } else {
    const args = studyArgs(values);
    const digests = Object.fromEntries(MODELS.map((name) => [name, fileDigest(`models/${name}.safetensors`)]));
    console.error(`running attnlens ${args.join(' ')}`);
    results = roundPerReview(JSON.parse(run(args)));
    results.models = byName(results.models);
    for (const [name, model] of Object.entries(results.models)) model.sha256 = digests[name];
    results.command = `attnlens ${args.join(' ')}`;
  }
  if (!results.command) throw new Error('the results record no command');
  await writeReport(results);
  console.error(`wrote ${path.relative(ROOT, OUT)}/{results.json,README.md,*.svg}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => { console.error(`faithfulness study: ${error.message}`); process.exit(1); });
}
