// The one engine of a page: every <attn-lens> and <attn-lens-translate> element (and the demo page)
// talks to this worker through attn-lens-client.js. It holds three wasm modules, each loaded the
// first time something needs it:
//   attnlens.wasm            forward passes only (small): every classifier, the forward-only
//                            explanations (attention, rollout, occlusion, random), the faithfulness
//                            metrics and the attention experiments
//   attnlens-train.wasm      the engine with gradients, loaded on first need: gradient × input,
//                            gradient and integrated gradients
//   attnlens-translate.wasm  the translators
// and every model file at most once, under a key the client chooses (its absolute URL, or a name
// for bytes handed over by the page), until the client closes it. The client downloads the files
// (and may compile an engine) while this worker starts; the worker only computes.
//
// In:  {id, type: 'open', key, name, kind: 'classifier' | 'translator', bytes}  → info()
//      {id, type: 'classify', key, text, explanation, layer, head}            → {result, milliseconds}
//      {id, type: 'explain' | 'faithfulness' | 'attentionExperiments', key, text, options}
//                                                                             → {result, milliseconds}
//      {id, type: 'translate', key, text, beam}                               → {result, milliseconds}
//      {type: 'close', key}                                                   (no answer)
//      {type: 'warm', engine: 'inference' | 'translate', compiling}          (no answer: starts loading it;
//                                                                             compiling: the page sends it)
//      {type: 'compiled', engine, module: WebAssembly.Module | null}          (null: load it here after all)
// Out: {id, ok: true, value} | {id, ok: false, message}; {type: 'started'} once the script runs.
// Everything runs in the order it arrives, one request at a time.
import createAttnlens from './attnlens.js';

// Engines the page is compiling for this worker: name → {promise, resolve} of a WebAssembly.Module
// (or null, when the page could not, and the worker loads the engine itself).
const fromPage = new Map();

// An engine from its emscripten factory: instantiated from the module the page compiled, if one
// was promised, else downloaded and compiled here.
async function instantiate(factory, name) {
  const module = await fromPage.get(name)?.promise;
  fromPage.delete(name);  // used once: after a failure, the next try loads the engine here
  if (!module) return factory();
  return new Promise((resolve, reject) => {
    factory({
      instantiateWasm(imports, receive) {
        WebAssembly.instantiate(module, imports).then((instance) => receive(instance, module), reject);
        return {};  // the exports arrive through receive()
      },
    }).then(resolve, reject);
  });
}

// A module factory called once, retried after a failure (a download that failed may work later).
// get.started() says whether a load is under way or done.
function lazily(load, what) {
  let promise = null;
  const get = () => {
    promise ??= load().catch((error) => {
      promise = null;
      throw new Error(`Could not load ${what}: ${error.message ?? error}`);
    });
    return promise;
  };
  get.started = () => promise !== null;
  return get;
}
const engines = {
  inference: lazily(() => instantiate(createAttnlens, 'inference'), 'the engine (attnlens.wasm)'),
  gradients: lazily(async () => (await import('./attnlens-train.js')).default(), 'the engine with gradients (attnlens-train.wasm)'),
  translate: lazily(async () => instantiate((await import('./attnlens-translate.js')).default, 'translate'),
    'the translator engine (attnlens-translate.wasm)'),
};

// key → Promise<{kind, bytes, info, inference?, gradients?, translator?}>
const open = new Map();

function openModel(message) {
  if (!open.has(message.key)) {
    const promise = (async () => {
      const bytes = message.bytes;
      if (!(bytes instanceof Uint8Array)) throw new Error(`No bytes were sent for ${message.name ?? message.key}`);
      if (message.kind === 'translator') {
        const translator = (await engines.translate()).Translator.fromBytes(bytes);
        return { kind: 'translator', translator, info: translator.info() };
      }
      // The small engine first: it reads every model file, and most never need more.
      const inference = (await engines.inference()).Model.fromBytes(bytes);
      return { kind: 'classifier', bytes, inference, gradients: null, info: inference.info() };
    })();
    promise.catch(() => open.delete(message.key));  // a failed load may be tried again
    open.set(message.key, promise);
  }
  return open.get(message.key);
}

function close(key) {
  const promise = open.get(key);
  if (!promise) return;
  open.delete(key);
  promise.then((entry) => {
    entry.inference?.delete();
    entry.gradients?.delete();
    entry.translator?.delete();
  }, () => {});
}

async function withGradients(entry) {
  entry.gradients ??= (await engines.gradients()).Model.fromBytes(entry.bytes);
  return entry.gradients;
}

async function modelFor(entry, explanation) {
  const needsGradients = explanation === 'gradient-x-input' || (explanation === 'auto' && !entry.info.hasAttention);
  return needsGradients ? withGradients(entry) : entry.inference;
}

async function classifierOf(key) {
  const entry = await open.get(key);
  if (!entry || entry.kind !== 'classifier') throw new Error(`The model ${key} is not open`);
  return entry;
}

// explain, faithfulness and the attention experiments run in the small engine when every method
// asked for is forward-only (attention, rollout, occlusion, random, the metrics, the experiments),
// and in the engine with gradients, loaded on first need, when one is a gradient method.
// `options` go to the Model's method of that name.
const GRADIENT_METHODS = new Set(['gradient', 'gradient-x-input', 'integrated-gradients']);

function methodsOf(call, options, info) {
  if (call === 'attentionExperiments') return [];
  if (call === 'explain') return [options?.method ?? 'attention'];
  // faithfulness: by default the method classify() explains the model by
  const fallback = info.hasAttention && info.ngramPath > 0 ? 'contribution'
    : info.hasAttention || info.transformerLayers > 0 ? 'attention' : 'gradient-x-input';
  return Array.isArray(options?.methods) ? options.methods : [fallback];
}

function explanationHandler(method) {
  return async ({ key, text, options }) => {
    const entry = await classifierOf(key);
    const needsGradients = methodsOf(method, options, entry.info).some((m) => GRADIENT_METHODS.has(m));
    const model = needsGradients ? await withGradients(entry) : entry.inference;
    const started = performance.now();
    const result = model[method](String(text), options ?? {});
    return { result, milliseconds: performance.now() - started };
  };
}

const handlers = {
  async open(message) {
    return (await openModel(message)).info;
  },
  async classify({ key, text, explanation = 'auto', layer = -1, head = -1 }) {
    const entry = await classifierOf(key);
    const model = await modelFor(entry, explanation);
    const started = performance.now();
    const result = model.classify(String(text), { explanation, layer, head });
    return { result, milliseconds: performance.now() - started };
  },
  explain: explanationHandler('explain'),
  faithfulness: explanationHandler('faithfulness'),
  attentionExperiments: explanationHandler('attentionExperiments'),
  async translate({ key, text, beam = 1 }) {
    const entry = await open.get(key);
    if (!entry || entry.kind !== 'translator') throw new Error(`The translator ${key} is not open`);
    const started = performance.now();
    const result = entry.translator.translate(String(text), { beam: Number(beam) || 1 });
    return { result, milliseconds: performance.now() - started };
  },
};

// One request at a time, in order: a long review never interleaves with the next one.
let queue = Promise.resolve();
onmessage = ({ data }) => {
  if (data?.type === 'close') {
    queue = queue.then(() => close(String(data.key)));
    return;
  }
  if (data?.type === 'warm') {  // load an engine now, while the model file downloads
    const name = data.engine === 'translate' ? 'translate' : 'inference';
    if (data.compiling && !fromPage.has(name) && !engines[name].started()) {  // else it is loading here already
      let resolve;
      const promise = new Promise((done) => { resolve = done; });
      fromPage.set(name, { promise, resolve });
    }
    engines[name]().catch(() => {});  // reported when needed
    return;
  }
  if (data?.type === 'compiled') {
    fromPage.get(data.engine)?.resolve(data.module instanceof WebAssembly.Module ? data.module : null);
    return;
  }
  const handler = Object.hasOwn(handlers, data?.type) ? handlers[data.type] : null;
  queue = queue.then(async () => {
    try {
      if (!handler) throw new Error(`Unknown request: ${String(data?.type)}`);
      postMessage({ id: data.id, ok: true, value: await handler(data) });
    } catch (error) {
      postMessage({ id: data.id, ok: false, message: error?.message ?? String(error) });
    }
  });
};
// A message that could not be read (a module this browser cannot receive): the engines the page
// was compiling are loaded here instead of waiting for them.
onmessageerror = () => {
  for (const { resolve } of fromPage.values()) resolve(null);
};
postMessage({ type: 'started' });
