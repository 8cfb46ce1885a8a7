// Runs the engine off the main thread, so typing never waits for a classification.
// Messages in: {type: 'classify', id, text}. Out: {type: 'ready', info} | {type: 'error', message}
// | {type: 'result', id, result, milliseconds}.
import createAttnlens from './dist/attnlens.js';

const MODEL_URL = new URL('./dist/bilstm-attention.safetensors', import.meta.url);

async function load() {
  let lens;
  try {
    lens = await createAttnlens();
  } catch (error) {
    throw new Error(`Could not load the engine (dist/attnlens.wasm): ${error.message ?? error}`);
  }
  let response;
  try {
    response = await fetch(MODEL_URL);
  } catch (error) {
    throw new Error(`Could not download the model (${MODEL_URL.pathname}): ${error.message ?? error}`);
  }
  if (!response.ok) throw new Error(`Could not download the model (${MODEL_URL.pathname}): HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return lens.Model.fromBytes(bytes);  // throws an Error naming the problem for a corrupt file
}

const modelPromise = load();
modelPromise.then(
  (model) => postMessage({ type: 'ready', info: model.info() }),
  (error) => postMessage({ type: 'error', message: error.message ?? String(error) }),
);

onmessage = async ({ data }) => {
  if (data?.type !== 'classify') return;
  let model;
  try {
    model = await modelPromise;
  } catch {
    return;  // already reported
  }
  try {
    const started = performance.now();
    const result = model.classify(String(data.text));
    postMessage({ type: 'result', id: data.id, result, milliseconds: performance.now() - started });
  } catch (error) {
    postMessage({ type: 'error', message: error.message ?? String(error), id: data.id });
  }
};
