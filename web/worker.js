// Runs the engine off the main thread, so typing never waits for a classification.
// Models are loaded lazily, once each, from dist/<name>.safetensors.
// Two engines: dist/attnlens.wasm (forward passes only, small: loaded first) runs every model and
// explains the attention models; a model that explains by gradient × input runs in the engine
// with gradients, dist/attnlens-train.wasm, fetched the first time such a model is chosen.
// In:  {type: 'classify', id, model, text}
//      {type: 'addModel', model, bytes}: a model trained in the page, under that name (replacing one of the name)
//      {type: 'selfAttention', id, model, text, layer (−1: the last), head (−1: mean over heads)}
// Out: {type: 'ready', models, defaultModel} | {type: 'model', model, info} | {type: 'error', message, id?, model?}
//      {type: 'result', id, model, result, milliseconds} | {type: 'selfAttention', id, model, weights, layer, head}
import { fetchBytes } from './common.js';
import createAttnlens from './dist/attnlens.js';

const distUrl = (file) => new URL(`./dist/${file}`, import.meta.url);
const models = new Map();  // name → Promise<Model>

const enginePromise = createAttnlens().catch((error) => {
  throw new Error(`Could not load the engine (dist/attnlens.wasm): ${error.message ?? error}`);
});
let gradientEnginePromise = null;
function gradientEngine() {
  gradientEnginePromise ??= import('./dist/attnlens-train.js').then(({ default: create }) => create()).catch((error) => {
    gradientEnginePromise = null;  // may be retried
    throw new Error(`Could not load the engine with gradients (dist/attnlens-train.wasm): ${error.message ?? error}`);
  });
  return gradientEnginePromise;
}

// A Model in the engine its explanation needs.
async function modelFromBytes(bytes) {
  const model = (await enginePromise).Model.fromBytes(bytes);  // throws an Error naming the problem for a corrupt file
  if (model.info().hasAttention) return model;
  model.delete();
  return (await gradientEngine()).Model.fromBytes(bytes);
}

function loadModel(name) {
  if (!/^[a-z0-9-]+$/.test(name)) return Promise.reject(new Error(`No such model: ${name}`));
  if (!models.has(name)) {
    const promise = (async () => {
      const bytes = await fetchBytes(distUrl(`${name}.safetensors`), `the model ${name}`);
      const model = await modelFromBytes(bytes);
      postMessage({ type: 'model', model: name, info: model.info() });
      return model;
    })();
    promise.catch(() => models.delete(name));  // a failed load may be retried
    models.set(name, promise);
  }
  return models.get(name);
}

// Ready once the engine, the model list and the default model have loaded.
(async () => {
  try {
    await enginePromise;
    const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(distUrl('models.json'), 'the model list')));
    if (!Array.isArray(manifest.models) || !manifest.models.length) throw new Error('The model list is empty');
    const defaultModel = manifest.models.includes('bilstm-attention') ? 'bilstm-attention' : manifest.models[0];
    await loadModel(defaultModel);
    postMessage({ type: 'ready', models: manifest.models, defaultModel });
  } catch (error) {
    postMessage({ type: 'error', message: error.message ?? String(error) });
  }
})();

function addModel(name, bytes) {
  const previous = models.get(name);
  const promise = (async () => {
    const model = await modelFromBytes(bytes);
    postMessage({ type: 'model', model: name, info: model.info() });
    return model;
  })();
  promise.catch((error) => postMessage({ type: 'error', message: error.message ?? String(error), model: name }));
  models.set(name, promise);
  previous?.then((model) => model.delete(), () => {});
}

onmessage = async ({ data }) => {
  if (data?.type === 'addModel' && /^[a-z0-9-]+$/.test(String(data.model)) && data.bytes instanceof Uint8Array) {
    addModel(data.model, data.bytes);
    return;
  }
  if (data?.type !== 'classify' && data?.type !== 'selfAttention') return;
  try {
    const model = await loadModel(String(data.model));
    const started = performance.now();
    if (data.type === 'classify') {
      const result = model.classify(String(data.text));
      postMessage({ type: 'result', id: data.id, model: data.model, result, milliseconds: performance.now() - started });
    } else {
      const layer = data.layer < 0 ? model.info().transformerLayers - 1 : data.layer;  // −1: the last layer
      const weights = model.selfAttention(String(data.text), layer, data.head);
      postMessage({ type: 'selfAttention', id: data.id, model: data.model, weights, layer, head: data.head });
    }
  } catch (error) {
    postMessage({ type: 'error', message: error.message ?? String(error), id: data.id, model: data.model });
  }
};
