// <attn-lens>: a live, explained sentiment classifier for any page, from one tag.
//
//   <script type="module" src="https://example.org/attnlens/attn-lens.js"></script>
//   <attn-lens model="bilstm-attention">Slow at first, but ultimately deeply moving.</attn-lens>
//
// Attributes (each also a property): model (a shipped model's name, or the URL of an attnlens
// .safetensors file), text (else the element's text content, which is also what a reader without
// JavaScript sees), mode (edit: a box to type into; figure: the text shown classified), compare
// (model names side by side), explanation (auto, attention, gradient-x-input), theme (auto, light,
// dark), loading (lazy: nothing is fetched until the element is within two screen heights; eager).
// Events (bubbling, composed): attn-lens-ready, attn-lens-result, attn-lens-error. element.result
// is the last result; element.classify(text) returns a Promise of it.
//
// Every element on the page shares one engine (attn-lens-client.js). Importing this module where
// there is no DOM (a static-site build) defines nothing and throws nothing; a second copy of it,
// or another version, leaves the first definition in place.
import { engine, Latest } from './attn-lens-client.js';
import { ResultPanel, announce, el, modelTitle, percent } from './attn-lens-view.js';
import { styleSheet } from './attn-lens-style.js';

export { engine };
export const VERSION = '0.2.0';
const Base = globalThis.HTMLElement ?? class {};
const DEFAULT_MODEL = 'bilstm-attention';
const EXPLANATIONS = ['auto', 'attention', 'gradient-x-input'];

// Attributes reflected as properties, with their defaults.
const REFLECTED = {
  model: DEFAULT_MODEL, mode: 'edit', compare: '', explanation: 'auto', theme: 'auto', loading: 'lazy',
};

export class AttnLensElement extends Base {
  static get observedAttributes() { return [...Object.keys(REFLECTED), 'text']; }

  #shadow;
  #frame;
  #input = null;
  #status;
  #panelsNode;
  #panels = new Map();   // model name → {panel, key, info, lane, choice, waiters, generation}
  #text = null;
  #started = false;
  #observer = null;
  #internals = null;
  #state = 'idle';
  #results = [];
  #readyFired = '';

  constructor() {
    super();
    this.#shadow = this.attachShadow({ mode: 'open' });
    const sheet = styleSheet();
    if (sheet) this.#shadow.adoptedStyleSheets = [sheet];
    this.#frame = el('div', 'frame');
    this.#frame.setAttribute('part', 'frame');
    this.#status = el('p', 'status');
    this.#status.setAttribute('part', 'status');
    this.#panelsNode = el('div', 'panels');
    this.#frame.append(this.#status, this.#panelsNode);
    this.#shadow.append(this.#frame);
    try {
      this.#internals = this.attachInternals?.() ?? null;
    } catch {
      this.#internals = null;
    }
  }

  // ------------------------------------------------------------ properties
  get text() { return this.#text ?? this.#initialText(); }
  set text(value) { this.setAttribute('text', String(value ?? '')); }
  get result() { return this.#results[0] ?? null; }
  get results() { return [...this.#results]; }
  get state() { return this.#state; }
  get modelInfo() { return this.#panels.values().next().value?.info ?? null; }
  get models() {
    const compare = (this.getAttribute('compare') ?? '').split(/[\s,]+/).filter(Boolean);
    return compare.length ? [...new Set(compare)] : [this.model];
  }

  // Runs the text through every model shown; resolves with the result (an array in compare mode).
  async classify(text) {
    if (!this.isConnected) throw new Error('classify(): the element is not in the document');
    const waiting = [...this.#panels.values()].map((entry) => new Promise((resolve, reject) => entry.waiters.push({ resolve, reject })));
    if (this.#started) this.#setText(text === undefined ? this.text : String(text));
    else {
      if (text !== undefined) this.#setText(String(text));
      this.#start();
    }
    const results = await Promise.all(waiting);
    return this.models.length > 1 ? results : results[0];
  }

  // ------------------------------------------------------------ lifecycle
  connectedCallback() {
    // Properties set before the element was defined are still here as own properties: pass them on.
    for (const name of [...Object.keys(REFLECTED), 'text']) {
      if (Object.hasOwn(this, name)) {
        const value = this[name];
        delete this[name];
        this[name] = value;
      }
    }
    if (this.#text === null) this.#text = this.#initialText();
    this.#buildInput();
    this.#syncPanels();
    if (this.loading === 'eager' || typeof IntersectionObserver !== 'function') {
      this.#start();
    } else if (!this.#started) {
      this.#setState('idle');
      // Start about two screen heights ahead, as Distill's figures do.
      this.#observer = new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) this.#start();
      }, { rootMargin: '200% 0px 200% 0px' });
      this.#observer.observe(this);
    }
  }

  disconnectedCallback() {
    this.#observer?.disconnect();
    this.#observer = null;
    this.#started = false;
    for (const entry of this.#panels.values()) this.#releasePanel(entry);
  }

  attributeChangedCallback(name, previous, value) {
    if (!this.isConnected || previous === value) return;
    if (name === 'text') this.#setText(value ?? this.#initialText());
    else if (name === 'mode') this.#buildInput();
    else if (name === 'model' || name === 'compare' || name === 'explanation') this.#syncPanels();
    else if (name === 'loading' && value === 'eager') this.#start();
  }

  // ------------------------------------------------------------ internals
  #initialText() {
    const attribute = this.getAttribute('text');
    if (attribute !== null) return attribute;
    return (this.textContent ?? '').replace(/\s+/g, ' ').trim();
  }

  #buildInput() {
    const editing = this.mode !== 'figure';
    if (editing && !this.#input) {
      this.#input = el('textarea');
      this.#input.setAttribute('part', 'input');
      this.#input.setAttribute('aria-label', this.getAttribute('aria-label') ?? 'Text to classify');
      this.#input.rows = 3;
      this.#input.spellcheck = true;
      this.#input.addEventListener('input', () => {
        this.#text = this.#input.value;
        this.#runAll();
      });
      this.#frame.insertBefore(this.#input, this.#status);
    } else if (!editing && this.#input) {
      this.#input.remove();
      this.#input = null;
    }
    if (this.#input && this.#input.value !== this.text) this.#input.value = this.text;
  }

  #setText(text) {
    this.#text = text;
    if (this.#input && this.#input.value !== text) this.#input.value = text;
    this.#runAll();
  }

  #setState(state, message = '') {
    this.#state = state;
    this.#status.textContent = message;
    this.#status.className = `status ${state}`;
    try {
      for (const s of ['idle', 'loading', 'ready', 'error']) this.#internals?.states?.delete(s);
      this.#internals?.states?.add(state);
    } catch {
      // Older CustomStateSet syntax: the state property still says it.
    }
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  #fail(message, panel = null) {
    panel?.renderError(message);
    this.#setState('error', message);
    this.#emit('attn-lens-error', { message });
    announce(message, { delay: 0 });
  }

  // Panels follow the model/compare attributes: new ones open their model, dropped ones release it.
  #syncPanels() {
    const wanted = this.models;
    for (const [name, entry] of this.#panels) {
      if (!wanted.includes(name)) {
        this.#releasePanel(entry);
        entry.panel.root.remove();
        this.#panels.delete(name);
      }
    }
    for (const name of wanted) {
      let entry = this.#panels.get(name);
      if (!entry) {
        entry = { name, panel: new ResultPanel(), key: null, info: null, opening: null, choice: { layer: -1, head: -1 },
          lane: null, waiters: [], generation: 0 };
        entry.lane = new Latest((text) => this.#classifyWith(entry, text));
        entry.panel.setModel(name, null);
        entry.panel.highlight.textContent = this.text;
        this.#panels.set(name, entry);
      }
      this.#panelsNode.append(entry.panel.root);  // in the order asked for
    }
    this.#readyFired = '';
    if (this.#started) {
      for (const entry of this.#panels.values()) entry.generation += 1;  // the explanation may have changed
      this.#openAll();
    }
  }

  #start() {
    if (this.#started || !this.isConnected) return;
    this.#started = true;
    this.#observer?.disconnect();
    this.#observer = null;
    this.#openAll();
  }

  #openAll() {
    const entries = [...this.#panels.values()];
    const loading = entries.filter((entry) => !entry.key);
    if (loading.length) this.#setState('loading', `Loading ${loading.map((e) => modelTitle(e.name)).join(', ')}…`);
    for (const entry of entries) this.#open(entry);
    this.#runAll();
  }

  #open(entry) {
    entry.opening ??= engine.acquire(entry.name).then(({ key, info }) => {
      if (this.#panels.get(entry.name) !== entry || !this.#started) {
        engine.release(key);  // gone or disconnected while it loaded
        entry.opening = null;
        return null;
      }
      entry.key = key;
      entry.info = info;
      entry.panel.setModel(entry.name, info);
      this.#maybeReady();
      return key;
    }, (error) => {
      entry.opening = null;
      this.#fail(error.message ?? String(error), entry.panel);
      for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
      return null;
    });
    return entry.opening;
  }

  #releasePanel(entry) {
    if (entry.key) engine.release(entry.key);
    entry.key = null;
    entry.info = null;
    entry.opening = null;
  }

  #maybeReady() {
    const entries = [...this.#panels.values()];
    if (!entries.every((entry) => entry.key)) return;
    if (this.#state !== 'error') this.#setState('ready', '');
    const signature = entries.map((e) => e.key).join(' ');
    if (this.#readyFired === signature) return;
    this.#readyFired = signature;
    this.#emit('attn-lens-ready', { models: entries.map((e) => ({ name: e.name, info: e.info })) });
  }

  // What a panel asks the engine for: its explanation, falling back to gradient × input where a
  // model has no attention of any kind; a Transformer's self-attention at the chosen layer and head.
  #options(entry) {
    let explanation = this.explanation;
    if (!EXPLANATIONS.includes(explanation)) explanation = 'auto';
    if (explanation === 'attention' && !entry.info?.hasAttention && !entry.info?.transformerLayers) explanation = 'gradient-x-input';
    return { explanation, layer: entry.choice.layer, head: entry.choice.head };
  }

  async #classifyWith(entry, text) {
    const key = await this.#open(entry);
    if (!key) return Latest.SUPERSEDED;
    return engine.classify(key, text, this.#options(entry));
  }

  #runAll() {
    if (!this.#started) {
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
      this.#fail(error.message ?? String(error), entry.panel);
      for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
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
      ...(result.explanation === 'self-attention' ? { attentionLayer: result.attentionLayer, attentionHead: result.attentionHead } : {}),
    };
    const index = [...this.#panels.keys()].indexOf(entry.name);
    this.#results[index] = detail;
    this.#results.length = this.#panels.size;
    if (this.#state === 'error' || this.#state === 'loading') this.#maybeReady();
    for (const waiter of entry.waiters.splice(0)) waiter.resolve(detail);
    this.#emit('attn-lens-result', detail);
    if (index === 0) {
      announce(`${modelTitle(entry.name)}: ${result.label}, ${percent(result.probability, 0)} positive.`);
    }
  }
}

// Reflected attributes as properties (a property set before the element is defined is passed on
// in connectedCallback).
for (const [name, fallback] of Object.entries(REFLECTED)) {
  Object.defineProperty(AttnLensElement.prototype, name, {
    get() { return this.getAttribute(name) ?? fallback; },
    set(value) {
      if (value === null || value === undefined) this.removeAttribute(name);
      else this.setAttribute(name, Array.isArray(value) ? value.join(' ') : String(value));
    },
    configurable: true,
    enumerable: true,
  });
}

// A model's bytes under a name of your own: <attn-lens model="name"> then uses them.
export function registerModel(name, bytes) { engine.register(name, bytes); }

if (globalThis.customElements && !customElements.get('attn-lens')) {
  customElements.define('attn-lens', AttnLensElement);
}
