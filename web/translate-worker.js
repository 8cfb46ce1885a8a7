// The translator engine off the main thread (its own wasm module, loaded only when the
// Translate view opens). Translators load lazily, once each, from dist/<name>.safetensors.
// In:  {type: 'translate', id, model, text, beam}
// Out: {type: 'ready', translators} (once the attention translator has loaded) | {type: 'model', model, info} | {type: 'error', message, id?, model?}
//      {type: 'result', id, model, result, milliseconds}
import { fetchBytes } from './common.js';
import createAttnlensTranslate from './dist/attnlens-translate.js';

const distUrl = (file) => new URL(`./dist/${file}`, import.meta.url);
const translators = new Map();  // name → Promise<Translator>

const enginePromise = createAttnlensTranslate().catch((error) => {
  throw new Error(`Could not load the translator engine (dist/attnlens-translate.wasm): ${error.message ?? error}`);
});

function loadTranslator(name) {
  if (!/^translate-[a-z0-9-]+$/.test(name)) return Promise.reject(new Error(`No such translator: ${name}`));
  if (!translators.has(name)) {
    const promise = (async () => {
      const lens = await enginePromise;
      const bytes = await fetchBytes(distUrl(`${name}.safetensors`), `the translator ${name}`);
      const translator = lens.Translator.fromBytes(bytes);  // throws an Error naming the problem for a corrupt file
      postMessage({ type: 'model', model: name, info: translator.info() });
      return translator;
    })();
    promise.catch(() => translators.delete(name));  // a failed load may be retried
    translators.set(name, promise);
  }
  return translators.get(name);
}

(async () => {
  try {
    await enginePromise;
    const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(distUrl('models.json'), 'the model list')));
    const names = Array.isArray(manifest.translators) ? manifest.translators : [];
    if (!names.length) throw new Error('No translator is listed in dist/models.json');
    // Ready with the first translator (the attention one); the others load behind it.
    await loadTranslator(names.includes('translate-eng-fra') ? 'translate-eng-fra' : names[0]);
    postMessage({ type: 'ready', translators: names });
    for (const name of names) loadTranslator(name).catch(() => {});  // errors reach the page with its requests
  } catch (error) {
    postMessage({ type: 'error', message: error.message ?? String(error) });
  }
})();

onmessage = async ({ data }) => {
  if (data?.type !== 'translate') return;
  try {
    const translator = await loadTranslator(String(data.model));
    const started = performance.now();
    const result = translator.translate(String(data.text), { beam: Number(data.beam) || 1 });
    postMessage({ type: 'result', id: data.id, model: data.model, result, milliseconds: performance.now() - started });
  } catch (error) {
    postMessage({ type: 'error', message: error.message ?? String(error), id: data.id, model: data.model });
  }
};
