// <attn-lens>: a live, explained sentiment classifier for any page, from one tag.
//
//   <script type="module" src="https://example.org/attnlens/attn-lens.js"></script>
//   <attn-lens model="bilstm-attention">Slow at first, but ultimately deeply moving.</attn-lens>
//
// Attributes (each also a property): model (a shipped model's name, or the URL of an attnlens
// .safetensors file), text (else the element's text content, which is also what a reader without
// JavaScript sees), mode (edit: a box to type into; figure: the text shown classified), compare
// (model names side by side), explanation (auto, attention, gradient-x-input — a share of the total
// per word —, contribution — each word's signed part of the logit, attention models; auto's choice where
// an n-gram path joins the attention — or attention-rollout, gradient, integrated-gradients, occlusion, random — scores, the
// signed ones in two colours for and against the prediction), theme (auto, light,
// dark), loading (lazy: nothing is fetched until the element is within two screen heights; eager).
// Events (bubbling, composed): attn-lens-ready, attn-lens-result, attn-lens-error. element.result
// is the last result; element.classify(text) returns a Promise of it.
//
// Every element on the page shares one engine (attn-lens-client.js). Importing this module where
// there is no DOM (a static-site build) defines nothing and throws nothing; a second copy of it,
// or another version, leaves the first definition in place.
import { engine, Latest } from './attn-lens-client.js';
import { LensElement } from './attn-lens-base.js';
import { ResultPanel, announce, el, modelTitle, percent, setModelTitle } from './attn-lens-view.js';
import { AttnLensTranslateElement } from './attn-lens-translate.js';
import { fileName, toHtml, toPng, toSvg } from './attn-lens-export.js';
import { EMBED_PAGE, Toolbar } from './attn-lens-tools.js';

export { engine, AttnLensTranslateElement };
export const VERSION = '0.2.0';
// classify()'s explanations, then every other method of model.explain (run by engine.explain: the
// forward-only ones in attnlens.wasm, the gradient ones in the engine with gradients, loaded on
// first use): their scores are not shares of a total, and the signed ones show
// evidence for and against the prediction.
const EXPLANATIONS = ['auto', 'attention', 'gradient-x-input', 'contribution'];
const EXPLAIN_METHODS = ['attention-rollout', 'gradient', 'integrated-gradients', 'occlusion', 'random'];
const SIGNED = new Set(['integrated-gradients', 'occlusion']);

export class AttnLensElement extends LensElement {
  static reflected = {
    model: 'bilstm-attention', mode: 'edit', compare: '', explanation: 'auto', theme: 'auto', loading: 'lazy',
    tools: 'all', link: EMBED_PAGE,
  };

  #panelsNode = el('div', 'panels');
  #panels = new Map();   // model name → {name, panel, key, info, opening, lane, choice, waiters, generation}
  #results = [];
  #readyFired = '';

  #tools = new Toolbar(this);

  constructor() {
    super();
    this.frame.append(this.#panelsNode, this.#tools.root);
  }

  // What the tools export: every panel's latest result, in order.
  #shown() { return this.#results.filter(Boolean); }

  exportFile(kind, options) {
    const results = this.#shown();
    if (!results.length) return null;
    const blob = kind === 'html' ? new Blob([toHtml(results, options)], { type: 'text/html' })
      : kind === 'svg' ? new Blob([toSvg(results, options)], { type: 'image/svg+xml' })
        : toPng(results, options);
    return { blob, name: fileName(results[0], kind) };
  }

  linkParams() {
    const compare = this.getAttribute('compare');
    return [compare ? ['compare', compare] : ['model', this.model],
      ['explanation', this.explanation === 'auto' ? null : this.explanation], ['text', this.text]];
  }

  get result() { return this.#results[0] ?? null; }
  // One entry per model shown, in order; null while that model has no result yet.
  get results() { return Array.from({ length: this.#panels.size }, (_, i) => this.#results[i] ?? null); }
  get modelInfo() { return this.#panels.values().next().value?.info ?? null; }
  get models() {
    const compare = (this.getAttribute('compare') ?? '').split(/[\s,]+/).filter(Boolean);
    return compare.length ? [...new Set(compare)] : [this.model];
  }
  get inputLabel() { return 'Text to classify'; }
  get inputPlaceholder() { return 'e.g. Slow at first, but ultimately deeply moving.'; }

  // Runs the text (default: the current one) through every model shown; resolves with the result,
  // or an array of them when several models are compared.
  async classify(text) {
    if (!this.isConnected) throw new Error('classify(): the element is not in the document');
    const waiting = [...this.#panels.values()].map((entry) => new Promise((resolve, reject) => entry.waiters.push({ resolve, reject })));
    this.setText(text === undefined ? this.text : String(text));
    this.start();
    const results = await Promise.all(waiting);
    return this.models.length > 1 ? results : results[0];
  }

  #onRegister = ({ detail }) => {
    const entry = this.#panels.get(detail.name);
    if (!entry) return;
    this.#releasePanel(entry);  // the name now stands for other bytes
    entry.generation += 1;
    if (this.started) this.open();
  };

  #onStopped = (event) => this.engineStopped(event);

  connected() {
    engine.addEventListener('register', this.#onRegister);
    engine.addEventListener('stopped', this.#onStopped);
    this.#syncPanels();
  }
  attributeChanged(name) {
    if (name === 'model' || name === 'compare' || name === 'explanation') this.#syncPanels();
    else if (name === 'tools') this.#tools.update(this.#shown().length > 0);
  }
  release() {
    engine.removeEventListener('register', this.#onRegister);
    engine.removeEventListener('stopped', this.#onStopped);
    for (const entry of this.#panels.values()) {
      this.#releasePanel(entry);
      this.#settle(entry, new Error('classify(): the element left the document'));
    }
  }

  #failPanel(message, panel) {
    panel?.renderError(message);
    this.fail(message);
  }

  // Panels follow the model/compare attributes: new ones open their model, dropped ones release it.
  #syncPanels() {
    const wanted = this.models;
    for (const [name, entry] of this.#panels) {
      if (!wanted.includes(name)) {
        this.#releasePanel(entry);
        this.#settle(entry, new Error(`classify(): the model ${name} is no longer shown`));
        entry.panel.root.remove();
        this.#panels.delete(name);
      }
    }
    const ordered = new Map();
    for (const name of wanted) {
      let entry = this.#panels.get(name);
      if (!entry) {
        entry = { name, panel: new ResultPanel(), key: null, info: null, opening: null, attempt: 0, choice: { layer: -1, head: -1 },
          lane: null, waiters: [], generation: 0 };
        entry.lane = new Latest((text) => this.#classifyWith(entry, text));
        entry.panel.setModel(name, null);
        entry.panel.highlight.textContent = this.text;
      }
      ordered.set(name, entry);
      this.#panelsNode.append(entry.panel.root);  // in the order asked for
    }
    this.#panels = ordered;
    this.#results.length = 0;
    this.#readyFired = '';
    if (this.started) {
      for (const entry of this.#panels.values()) entry.generation += 1;  // the explanation may have changed
      this.open();
    }
  }

  open() {
    const entries = [...this.#panels.values()];
    const loading = entries.filter((entry) => !entry.key);
    if (loading.length) this.setState('loading', `Loading ${loading.map((e) => modelTitle(e.name)).join(', ')}…`);
    for (const entry of entries) this.#open(entry);
    this.run();
  }

  // Opens the panel's model once; an attempt overtaken by a release (the element moved, the name
  // registered again) gives back what it got instead of keeping it.
  #open(entry) {
    if (!entry.opening) {
      const attempt = ++entry.attempt;
      entry.opening = engine.acquire(entry.name).then(({ key, info }) => {
        if (entry.attempt !== attempt || this.#panels.get(entry.name) !== entry || !this.started) {
          engine.release(key);
          if (entry.attempt === attempt) entry.opening = null;
          return null;
        }
        entry.key = key;
        entry.info = info;
        entry.panel.setModel(entry.name, info);
        this.#maybeReady();
        return key;
      }, (error) => {
        if (entry.attempt !== attempt) return null;
        entry.opening = null;
        this.#failPanel(error.message ?? String(error), entry.panel);
        this.#settle(entry, error);
        return null;
      });
    }
    return entry.opening;
  }

  // Ends the panel's waiting classify() calls: with a result, or with an error.
  #settle(entry, error, detail) {
    for (const waiter of entry.waiters.splice(0)) {
      if (error) waiter.reject(error);
      else waiter.resolve(detail);
    }
  }

  #releasePanel(entry) {
    if (entry.key) engine.release(entry.key);
    entry.attempt += 1;  // an acquire still under way gives its model back
    entry.key = null;
    entry.info = null;
    entry.opening = null;
  }

  #maybeReady() {
    const entries = [...this.#panels.values()];
    if (!entries.every((entry) => entry.key)) return;
    this.setState('ready', '');
    const signature = entries.map((e) => e.key).join(' ');
    if (this.#readyFired === signature) return;
    this.#readyFired = signature;
    this.emit('attn-lens-ready', { models: entries.map((e) => ({ name: e.name, info: e.info })) });
  }

  // What a panel asks the engine for: its explanation, falling back to gradient × input where a
  // model has no attention of any kind; a Transformer's self-attention at the chosen layer and head.
  #options(entry) {
    let explanation = this.explanation;
    if (!EXPLANATIONS.includes(explanation) && !EXPLAIN_METHODS.includes(explanation)) explanation = 'auto';
    if (explanation === 'attention-rollout' && !entry.info?.transformerLayers) explanation = 'attention';
    if (explanation === 'attention' && !entry.info?.hasAttention && !entry.info?.transformerLayers) explanation = 'gradient-x-input';
    if (explanation === 'contribution' && entry.info && !entry.info.hasAttention) explanation = 'auto';  // no attention pooling
    return { explanation, layer: entry.choice.layer, head: entry.choice.head };
  }

  async #classifyWith(entry, text) {
    if (!this.started) return Latest.SUPERSEDED;  // the element left while this waited
    const key = await this.#open(entry);
    if (!key) return Latest.SUPERSEDED;
    const options = this.#options(entry);
    if (!EXPLAIN_METHODS.includes(options.explanation)) return engine.classify(key, text, options);
    const { result, milliseconds } = await engine.explain(key, text, { method: options.explanation });
    return {
      milliseconds,
      result: {
        label: result.label, probability: result.probability, logit: result.logit, explanation: result.method,
        aggregation: result.aggregation, scale: 'score', signed: SIGNED.has(result.method),
        ...(result.completenessGap != null ? { completenessGap: result.completenessGap } : {}),
        tokens: result.tokens.map(({ text: word, start, end, score, oov }) => ({ text: word, start, end, weight: score, oov })),
      },
    };
  }

  run() {
    if (!this.started) {
      for (const entry of this.#panels.values()) entry.panel.highlight.textContent = this.text;
      return;
    }
    for (const entry of this.#panels.values()) this.#run(entry);
  }

  #run(entry) {
    const text = this.text;
    const generation = entry.generation;
    const started = performance.now();
    entry.lane.run(text).then((answer) => {
      if (answer === Latest.SUPERSEDED || this.#panels.get(entry.name) !== entry) return;
      if (text !== this.text || generation !== entry.generation) return;  // something newer is on its way
      this.#render(entry, text, answer, performance.now() - started);
    }, (error) => {
      if (text !== this.text) return;
      this.#failPanel(error.message ?? String(error), entry.panel);
      this.#settle(entry, error);
    });
  }

  #render(entry, text, { result, milliseconds }, latency) {
    entry.panel.render(text, result, milliseconds);
    if (result.explanation === 'self-attention') {
      entry.panel.showTransformerControls(entry.info, entry.choice, (choice) => {
        entry.choice = choice;
        entry.generation += 1;
        this.#run(entry);
      });
    } else {
      entry.panel.controls.hidden = true;
    }
    const detail = {
      text, model: entry.name, label: result.label, probability: result.probability, logit: result.logit,
      explanation: result.explanation, tokens: result.tokens, engineMs: milliseconds, latencyMs: latency,
      ...(result.aggregation ? { aggregation: result.aggregation } : {}),
      ...(result.scale ? { scale: result.scale, signed: Boolean(result.signed) } : {}),  // scores, not shares: explain's, or contributions
      ...(result.explanation === 'contribution' ? { ngramPath: entry.info?.ngramPath ?? 0 } : {}),
      ...(result.completenessGap != null ? { completenessGap: result.completenessGap } : {}),
      ...(result.explanation === 'self-attention' ? { attentionLayer: result.attentionLayer, attentionHead: result.attentionHead } : {}),
    };
    const index = [...this.#panels.keys()].indexOf(entry.name);
    this.#results[index] = detail;
    this.#results.length = this.#panels.size;
    this.#tools.update(true);
    if (this.state !== 'ready') this.#maybeReady();
    this.#settle(entry, null, detail);
    this.emit('attn-lens-result', detail);
    if (index === 0) announce(`${modelTitle(entry.name)}: ${result.label}, ${percent(result.probability, 0)} positive.`);
  }
}

// A model's bytes under a name of your own (and the title its panels show): <attn-lens model="name">
// then uses them. Registering a name again replaces the model wherever it is shown.
export function registerModel(name, bytes, { title } = {}) {
  if (title) setModelTitle(name, String(title));
  engine.register(name, bytes);
}

LensElement.register('attn-lens', AttnLensElement);
LensElement.register('attn-lens-translate', AttnLensTranslateElement);
