// What web/tests/kernels.test.mjs compares across the kernel modules (src/wasm/kernel_loader.js),
// written for any JS runtime (no node imports): node runs it through kernel-results.mjs, Chromium
// imports it from the served web/ folder.
export const MODELS = ['bilstm-attention', 'gru-attention', 'lstm', 'cnn', 'transformer'];
export const TEXT = 'A wonderful, moving film: the acting is superb, though the plot drags and the ending is weak. ' +
  'I would still watch it again, for the music and the photography alone.';

// Every shipped model's logits and per-token weights (attention in the small engine, gradient ×
// input in the engine with gradients), and two training losses: plain numbers to compare.
// engine(name) → a started engine ('attnlens' or 'attnlens-train'); modelBytes(name) → Uint8Array.
export async function results(engine, modelBytes) {
  const lens = await engine('attnlens'), train = await engine('attnlens-train');
  const out = { kernels: [lens.kernels, train.kernels], models: {} };
  for (const name of MODELS) {
    const bytes = await modelBytes(name);
    const model = lens.Model.fromBytes(bytes), withGradients = train.Model.fromBytes(bytes);
    const classified = withGradients.classify(TEXT);
    out.models[name] = {
      logits: model.predict([TEXT, TEXT.slice(0, 40), 'bad']).map((p) => p.logit),
      // The small engine explains the attention models; the others by gradients (below).
      weights: model.info().hasAttention ? model.classify(TEXT).tokens.map((t) => t.weight) : [],
      gradients: classified.tokens.map((t) => t.weight),
      logit: classified.logit,
    };
    model.delete();
    withGradients.delete();
  }
  const texts = Array.from({ length: 16 }, (_, i) => `${i % 2 ? 'a great and moving' : 'a dull and boring'} film, number ${i}`);
  const trainer = train.Trainer.fromBytes(await modelBytes('cnn'), texts, texts.map((_, i) => i % 2), { batchSize: 8, validationFraction: 0, seed: 1 });
  out.losses = [trainer.step().loss, trainer.step().loss];
  trainer.delete();
  return out;
}
