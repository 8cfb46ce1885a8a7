// The page's one connection to the engine (attn-lens-worker.js), shared by every <attn-lens> and
// <attn-lens-translate> element and by any script that imports it: one worker, one download of each
// wasm module and one fetch of each model file, however many elements use them (the pattern of
// model-viewer's shared renderer and Gradio-Lite's shared worker).
//
//   import { engine } from './attn-lens-client.js';
//   const { key, info } = await engine.acquire('bilstm-attention');      // a shipped model, a URL, or a registered name
//   const { result, milliseconds } = await engine.classify(key, text, { explanation: 'auto' });
//   engine.release(key);                                                  // freed in the worker once no one holds it
//   engine.register('mine', bytes);                                       // a model file's bytes under a name of your own
//
// Everything is found relative to this file's URL, never the page's, so the package works from any
// folder or origin. The worker of a package on another origin (a CDN), or of a page with an opaque
// origin (a sandboxed iframe), starts through a same-origin blob: script that imports it, since
// browsers refuse a cross-origin `new Worker(url)`. That script is a classic worker with a dynamic
// import(): a sandboxed frame cannot start a module worker from a blob: URL at all (Chromium).
const PACKAGE = new URL('./', import.meta.url);
const WORKER_URL = new URL('./attn-lens-worker.js', import.meta.url);
const SHIPPED_NAME = /^[a-z0-9][a-z0-9-]*$/;
const ENGINE_FILES = { inference: 'attnlens.wasm', translate: 'attnlens-translate.wasm' };
const RELEASE_DELAY_MS = 1500;   // an element moved in the DOM (removed, then added) keeps its model
const IDLE_WORKER_MS = 10000;    // a worker that holds no model and has no work is ended

// A file's bytes, with a message that names what it is and why it could not be had.
async function download(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`Could not download ${what} (${url}): ${error.message ?? error}`);
  }
  if (!response.ok) throw new Error(`Could not download ${what} (${url}): HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// Runs one task at a time; while one runs, only the newest request waits, and the requests it
// replaced resolve with Latest.SUPERSEDED. Fast typing never queues stale work.
export class Latest {
  static SUPERSEDED = Symbol('superseded');
  #task;
  #running = false;
  #next = null;
  constructor(task) { this.#task = task; }
  run(...args) {
    return new Promise((resolve, reject) => {
      this.#next?.resolve(Latest.SUPERSEDED);
      this.#next = { args, resolve, reject };
      this.#pump();
    });
  }
  async #pump() {
    if (this.#running || !this.#next) return;
    const { args, resolve, reject } = this.#next;
    this.#next = null;
    this.#running = true;
    try {
      resolve(await this.#task(...args));
    } catch (error) {
      reject(error);
    } finally {
      this.#running = false;
      this.#pump();
    }
  }
}

class EngineClient extends EventTarget {
  #worker = null;
  #generation = 0;        // counts workers started: an open model belongs to one of them
  #pending = new Map();   // request id → {resolve, reject}
  #outbox = null;         // [message, transfer] held until the worker says it has started (null: it has)
  #warmed = new Set();    // engines the current worker has been told to load
  #nextId = 1;
  #entries = new Map();   // key → {source, count, opened: Promise<info> | null, generation, releaseTimer}
  #registered = new Map();  // name → {bytes, version}
  #manifest = null;
  #idleTimer = null;
  #busy = 0;              // downloads and compilations under way for the worker

  // What the package ships: {models: [...], baselines: [...], translators: [...]} (from models.json
  // beside it). A baseline (the n-gram model) is a classifier like the models, named apart so
  // that lists of "the shipped models" keep to the neural ones.
  manifest() {
    this.#manifest ??= (async () => {
      const url = new URL('models.json', PACKAGE);
      let response;
      try {
        response = await fetch(url);
      } catch (error) {
        throw new Error(`Could not download the model list (${url}): ${error.message ?? error}`);
      }
      if (!response.ok) throw new Error(`Could not download the model list (${url}): HTTP ${response.status}`);
      const manifest = await response.json();
      return { models: manifest.models ?? [], baselines: manifest.baselines ?? [], translators: manifest.translators ?? [] };
    })();
    this.#manifest.catch(() => { this.#manifest = null; });
    return this.#manifest;
  }

  // Model bytes under a name of the page's own (say, a model trained in the page); elements then
  // use it as model="name". Registering the name again replaces the model: a 'register' event
  // (detail: {name}) tells the elements that show it to open the new one.
  register(name, bytes) {
    if (!SHIPPED_NAME.test(String(name))) throw new Error(`A registered model's name is letters, digits and hyphens: ${name}`);
    if (!(bytes instanceof Uint8Array)) throw new Error('register(name, bytes): bytes must be a Uint8Array');
    const version = (this.#registered.get(name)?.version ?? 0) + 1;
    this.#registered.set(name, { bytes, version });
    this.dispatchEvent(new CustomEvent('register', { detail: { name } }));
  }

  async #resolve(model, kind) {
    const name = String(model ?? '').trim();
    if (!name) throw new Error(`No ${kind === 'translator' ? 'translator' : 'model'} was named`);
    const registered = this.#registered.get(name);
    if (registered) return { key: `registered:${name}#${registered.version}`, name, bytes: registered.bytes, kind };
    if (SHIPPED_NAME.test(name)) {
      const manifest = await this.manifest();
      const list = kind === 'translator' ? manifest.translators : [...manifest.models, ...manifest.baselines];
      if (!list.includes(name)) {
        throw new Error(`No ${kind === 'translator' ? 'translator' : 'model'} called “${name}” ships with attnlens `
          + `(${list.join(', ') || 'none'}); give the URL of a .safetensors file for another`);
      }
      return { key: new URL(`${name}.safetensors`, PACKAGE).href, name, url: new URL(`${name}.safetensors`, PACKAGE).href, kind };
    }
    const base = globalThis.document?.baseURI ?? PACKAGE.href;
    let url;
    try {
      url = new URL(name, base).href;
    } catch {
      throw new Error(`Not a model name or URL: ${name}`);
    }
    return { key: url, name, url, kind };
  }

  // Opens a model (once per page) and holds it: {key, info}. Call release(key) when done.
  async acquire(model, kind = 'classifier') {
    this.#warm(kind === 'translator' ? 'translate' : 'inference');  // the engine loads while the name is looked up
    clearTimeout(this.#idleTimer);
    let source;
    try {
      source = await this.#resolve(model, kind);
    } catch (error) {
      this.#idleCheck();  // nothing came of it: the worker may end when idle
      throw error;
    }
    let entry = this.#entries.get(source.key);
    if (!entry) {
      entry = { source, count: 0, opened: null, generation: -1, releaseTimer: null };
      this.#entries.set(source.key, entry);
    }
    entry.count += 1;
    clearTimeout(entry.releaseTimer);
    clearTimeout(this.#idleTimer);
    try {
      return { key: source.key, info: await this.#open(entry) };
    } catch (error) {
      this.release(source.key, { now: true });
      throw error;
    }
  }

  release(key, { now = false } = {}) {
    const entry = this.#entries.get(key);
    if (!entry) return;
    entry.count -= 1;
    if (entry.count > 0) return;
    const close = () => {
      if (entry.count > 0 || this.#entries.get(key) !== entry) return;
      this.#entries.delete(key);
      if (entry.opened && entry.generation === this.#generation && this.#worker) this.#post({ type: 'close', key });
      this.#idleCheck();
    };
    if (now) close();
    else entry.releaseTimer = setTimeout(close, RELEASE_DELAY_MS);
  }

  async classify(key, text, { explanation = 'auto', layer = -1, head = -1 } = {}) {
    await this.#open(this.#held(key));
    return this.#call({ type: 'classify', key, text: String(text), explanation, layer, head });
  }

  // Explanations beyond attention (the Model's explain, faithfulness and attentionExperiments:
  // forward-only methods in the small engine, gradient methods in the engine with gradients,
  // loaded on first need): resolve with {result, milliseconds}.
  async explain(key, text, options = {}) {
    await this.#open(this.#held(key));
    return this.#call({ type: 'explain', key, text: String(text), options });
  }

  async faithfulness(key, text, options = {}) {
    await this.#open(this.#held(key));
    return this.#call({ type: 'faithfulness', key, text: String(text), options });
  }

  async attentionExperiments(key, text, options = {}) {
    await this.#open(this.#held(key));
    return this.#call({ type: 'attentionExperiments', key, text: String(text), options });
  }

  async translate(key, text, { beam = 1 } = {}) {
    await this.#open(this.#held(key));
    return this.#call({ type: 'translate', key, text: String(text), beam });
  }

  // For tests and the curious: how many workers this page started, whether one runs, what it holds.
  stats() {
    return {
      workersStarted: this.#generation,
      workerRunning: this.#worker !== null,
      models: [...this.#entries.entries()].map(([key, e]) => ({ key, holders: e.count })),
    };
  }

  #held(key) {
    const entry = this.#entries.get(key);
    if (!entry) throw new Error(`The model ${key} is not held: acquire it first`);
    return entry;
  }

  // The model open in the current worker (opened again if the worker was replaced). The page
  // downloads the file while the worker starts, and hands the bytes over without a copy.
  #open(entry) {
    if (!entry.opened || entry.generation !== this.#generation || !this.#worker) {
      const { key, name, url, bytes, kind } = entry.source;
      const what = `the ${kind === 'translator' ? 'translator' : 'model'} ${name ?? key}`;
      this.#warm(kind === 'translator' ? 'translate' : 'inference');  // a new worker loads its engine meanwhile
      this.#busy += 1;  // the worker is not idle while its model downloads
      entry.generation = this.#generation;
      const opened = (bytes ? Promise.resolve(bytes) : download(url, what))
        .finally(() => {
          this.#busy -= 1;
          this.#idleCheck();
        })
        .then((data) => {
          // Released while it downloaded: the worker never gets it (it would hold it for no one).
          if (this.#entries.get(key) !== entry) throw new Error(`${what} was released while it loaded`);
          this.#ensureWorker();
          entry.generation = this.#generation;  // the worker that gets it (a new one, if the last one died meanwhile)
          return this.#call({ type: 'open', key, name, kind, bytes: data }, data === bytes ? [] : [data.buffer]);
        });
      entry.opened = opened;
      opened.catch(() => { if (entry.opened === opened) entry.opened = null; });  // tried again on the next request
    }
    return entry.opened;
  }

  // Starts loading an engine. Where it can, the page compiles the wasm (WebAssembly.compileStreaming
  // compiles while it downloads, off the main thread) as the worker starts, and sends the worker the
  // compiled module; otherwise, or if that fails, the worker loads the engine itself.
  #warm(which) {
    const worker = this.#ensureWorker();
    if (this.#warmed.has(which)) return;
    this.#warmed.add(which);
    if (typeof globalThis.WebAssembly?.compileStreaming !== 'function' || !ENGINE_FILES[which]) {
      this.#post({ type: 'warm', engine: which });
      return;
    }
    this.#post({ type: 'warm', engine: which, compiling: true });
    this.#busy += 1;
    WebAssembly.compileStreaming(fetch(new URL(ENGINE_FILES[which], PACKAGE)))
      .catch(() => null)  // the worker tries again, and says what went wrong
      .then((module) => {
        this.#busy -= 1;
        if (this.#worker === worker) this.#post({ type: 'compiled', engine: which, module });
        this.#idleCheck();
      });
  }

  // To the worker, in order: held in the outbox until its script has run. A message that cannot
  // be sent (it cannot be cloned) fails its own request, not the ones after it.
  #post(message, transfer = []) {
    if (this.#outbox) this.#outbox.push([message, transfer]);
    else this.#send(this.#worker, message, transfer);
  }

  #send(worker, message, transfer) {
    try {
      worker.postMessage(message, transfer);
    } catch (error) {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      pending?.reject(new Error(`Could not send the engine a request: ${error.message ?? error}`));
    }
  }

  #call(message, transfer = []) {
    this.#ensureWorker();
    clearTimeout(this.#idleTimer);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#post({ ...message, id }, transfer);
    }).finally(() => this.#idleCheck());
  }

  #ensureWorker() {
    if (this.#worker) return this.#worker;
    this.#generation += 1;
    this.#warmed.clear();
    let worker;
    let trampoline = null;
    try {
      // self.origin, not location.origin: a sandboxed frame has an opaque origin at any URL.
      if (WORKER_URL.origin === globalThis.origin) {
        worker = new Worker(WORKER_URL, { type: 'module', name: 'attnlens' });
      } else {
        const source = `import(${JSON.stringify(WORKER_URL.href)}).catch((error) => `
          + 'postMessage({ type: "failed", message: String(error && error.message || error) }));\n';
        trampoline = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
        worker = new Worker(trampoline, { name: 'attnlens' });
      }
    } catch (error) {
      if (trampoline) URL.revokeObjectURL(trampoline);
      throw new Error(`This page cannot start the attnlens engine: ${error.message ?? error}`);
    }
    // Requests wait until the worker's script has run (a message that came before it would be lost).
    this.#outbox = [];
    worker.addEventListener('message', ({ data }) => {
      if (worker !== this.#worker) return;  // one that was ended
      if (data?.type === 'started') {
        if (trampoline) URL.revokeObjectURL(trampoline);
        const outbox = this.#outbox ?? [];
        this.#outbox = null;
        for (const [message, transfer] of outbox) this.#send(worker, message, transfer);
        return;
      }
      if (data?.type === 'failed') {
        this.#failed(worker, `The attnlens engine could not start: its script (${WORKER_URL.href}) could not be loaded (${data.message})`);
        return;
      }
      const pending = this.#pending.get(data?.id);
      if (!pending) return;
      this.#pending.delete(data.id);
      if (data.ok) pending.resolve(data.value);
      else pending.reject(new Error(data.message));
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      if (trampoline) URL.revokeObjectURL(trampoline);
      this.#failed(worker, `The attnlens engine stopped: ${event.message || `its script (${WORKER_URL.href}) could not be loaded`}`);
    });
    this.#worker = worker;
    return worker;
  }

  // The worker died (or never started): every request in flight fails with the reason, and the
  // next request starts a new worker that opens its models again.
  #failed(worker, message) {
    if (this.#worker !== worker) return;
    worker.terminate();
    this.#worker = null;
    this.#outbox = null;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { reject } of pending) reject(new Error(message));
    // Elements with nothing in flight say so too (detail: {message}); their next request starts a new worker.
    this.dispatchEvent(new CustomEvent('stopped', { detail: { message } }));
  }

  #idleCheck() {
    clearTimeout(this.#idleTimer);
    if (!this.#worker || this.#entries.size || this.#pending.size || this.#busy) return;
    this.#idleTimer = setTimeout(() => {
      if (!this.#worker || this.#entries.size || this.#pending.size || this.#busy) return;
      this.#worker.terminate();
      this.#worker = null;
    }, IDLE_WORKER_MS);
  }
}

// One client per page: a second copy of this file (another URL, a bundle, another version that
// speaks the same protocol) uses the first copy's client, so its registerModel() reaches the
// elements the first copy defined, and nothing is downloaded twice.
const SHARED = Symbol.for('attn-lens.engine/1');
export const engine = globalThis[SHARED] ??= new EngineClient();
