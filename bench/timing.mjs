// Timing helpers shared by the benchmark suite (bench/run.mjs) and the A/B of two builds
// (bench/ab.mjs).
import { vocabularyOf } from '../web/tests/helpers.mjs';

// Median and 95th percentile of a list of times, ms.
export function summarize(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median_ms: at(0.5), p95_ms: at(0.95), runs: sorted.length };
}

// Several engines (name → function) at once, after a warm-up of each, their calls interleaved
// run by run, so a slow spell on this shared machine lands on all of them alike and the ratios
// between them stay fair.
export async function measureInterleaved(fns, { warmupMs, runs }) {
  const names = Object.keys(fns);
  for (const name of names) {
    const started = performance.now();
    do await fns[name](); while (performance.now() - started < warmupMs);
  }
  const times = Object.fromEntries(names.map((name) => [name, []]));
  for (let i = 0; i < runs; ++i) {
    for (const name of names) {
      const t0 = performance.now();
      await fns[name]();
      times[name].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(times[name])]));
}

// The review the native bench builds too (src/bench/bench.cpp): the vocabulary's common
// alphabetic words (ids 2…501) in order, starting `offset` words in, n tokens.
export function reviewMaker(file) {
  const vocabulary = vocabularyOf(file);
  const ids = new Map(vocabulary.map((word, id) => [word, id]));
  const words = vocabulary.slice(2, 502).filter((w) => /^[a-z]+$/.test(w));
  const words_ = (n, offset) => Array.from({ length: n }, (_, i) => words[(i + offset) % words.length]);
  return {
    text: (n, offset = 0) => words_(n, offset).join(' '),
    ids: (n, offset = 0) => words_(n, offset).map((w) => ids.get(w)),
  };
}
