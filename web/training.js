// The JS training API: a training run in its own Web Worker, behind promises and events, so
// the page never freezes while a model trains. Other pages use it exactly as:
//
//   import { Training } from './training.js';
//   const run = await Training.create({
//     config: {architecture: 'bilstm-attention', embedding_dim: 32, hidden_size: 32, pooling: 'attention'},
//     // or model: 'dist/bilstm-attention.safetensors' (a URL) or modelBytes: Uint8Array — fine-tuning
//     data: {texts, labels},        // or {cueTask: {count, length, fillers, negation, seed}}, {file: File}, {files: FileList}
//     options: {batchSize: 32, learningRate: 0.005, seed: 1, validationFraction: 0.1, maxLength: 0},
//     probe: 'a sentence to watch',  // optional: its prediction and weights arrive with every batch
//   });
//   run.addEventListener('batch', (e) => e.detail);  // {step: {epoch, batch, batches, loss, accuracy, examplesPerSecond, …}, probe}
//   run.addEventListener('epoch', (e) => e.detail);  // the same, at the end of an epoch, with step.validation
//   await run.train(5);               // resolves {stopped, completedEpochs}; call again to train on (resume)
//   run.stop();                       // ends the current train() after the batch in progress
//   await run.evaluate({texts, labels});  // {loss, accuracy, count, confusion_matrix}
//   await run.classify(text);         // as Model.classify, with the weights so far
//   const bytes = await run.export(); // a .safetensors model file: Model.fromBytes and the CLI load it
//   const saved = await run.checkpoint(history);  // the whole run as bytes (weights, optimiser, random
//                                     // state, position; `history`: your epoch records, kept with it)
//   Training.create({config, data, options, checkpoint: saved})  // continues it exactly (same data and
//                                     // options; other data is refused); run.history gives `history` back
//   run.terminate();                  // ends the worker at once (cancels a running batch too)
//
// create() resolves with the run; run.info, run.source, run.examples and run.probe describe it.
const WORKER_URL = new URL('./train-worker.js', import.meta.url);

export class Training extends EventTarget {
  #worker;
  #pending = new Map();
  #nextId = 1;
  #failure = null;

  static async create({ config, model, modelBytes, data, options = {}, probe = null, checkpoint = null, workerUrl = WORKER_URL } = {}) {
    if (!config && !model && !modelBytes) throw new Error('Training.create needs a config, a model URL or modelBytes');
    if (!data) throw new Error('Training.create needs data');
    const run = new Training(workerUrl);
    const source = config ? { config } : modelBytes ? { modelBytes } : { modelUrl: new URL(model, document.baseURI).href };
    try {
      if (checkpoint !== null && !(checkpoint instanceof Uint8Array)) throw new Error('Training.create: checkpoint must be a Uint8Array');
      const created = await run.#request({ type: 'create', source, data, options, probe, checkpoint });
      Object.assign(run, { info: created.info, history: created.history, examples: created.examples, skipped: created.skipped,
        source: created.source, probe: created.probe });
      return run;
    } catch (error) {
      run.terminate();
      throw error;
    }
  }

  constructor(workerUrl) {
    super();
    this.#worker = new Worker(workerUrl, { type: 'module' });
    this.#worker.addEventListener('message', ({ data }) => {
      if (data.type === 'batch' || data.type === 'epoch') {
        this.dispatchEvent(new CustomEvent(data.type, { detail: { step: data.step, probe: data.probe } }));
        return;
      }
      const pending = this.#pending.get(data.id);
      if (!pending) return;
      this.#pending.delete(data.id);
      if (data.type === 'reply') pending.resolve(data.result);
      else pending.reject(new Error(data.message));
    });
    this.#worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      this.#fail(new Error(`The training worker failed: ${event.message || 'its script could not be loaded'}`));
    });
  }

  #fail(error) {
    this.#failure = error;
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }

  #request(message) {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id });
    });
  }

  train(epochs = 1) {
    if (!Number.isInteger(epochs) || epochs < 1) return Promise.reject(new Error('train(epochs): epochs must be a positive integer'));
    return this.#request({ type: 'train', epochs });
  }

  stop() { this.#worker.postMessage({ type: 'stop' }); }
  evaluate(data) { return this.#request({ type: 'evaluate', data }); }
  classify(text) { return this.#request({ type: 'classify', text: String(text) }); }
  export() { return this.#request({ type: 'export' }); }
  checkpoint(history = []) { return this.#request({ type: 'checkpoint', history }); }

  terminate() {
    this.#worker.terminate();
    this.#fail(new Error('The training was cancelled'));
  }
}
