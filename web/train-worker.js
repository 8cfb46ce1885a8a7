// One training run, off the main thread (web/training.js is its API; use that, not these messages).
// In:  {type: 'create', id, source, data, options, probe}   source: {config} | {modelUrl} | {modelBytes}
//                                                           data: {texts, labels} | {cueTask} | {file} | {files}
//      {type: 'train', id, epochs}  {type: 'stop'}  {type: 'evaluate', id, data}  {type: 'classify', id, text}
//      {type: 'export', id}  {type: 'checkpoint', id, history}
//      (create may carry checkpoint: the bytes of an earlier run's checkpoint, to continue it)
// Out: {type: 'reply', id, result} | {type: 'failed', id, message}
//      {type: 'batch', step, probe} (every batch while training) | {type: 'epoch', step, probe}
//      (probe: the probe text's prediction with the weights so far, or null)
import { fetchBytes } from './common.js';
import { parseLabelled, readImdbFolder } from './datasets.js';
import createAttnlensTrain from './dist/attnlens-train.js';

let lens, trainer, probe = null, stopRequested = false, training = false;

const enginePromise = createAttnlensTrain().catch((error) => {
  throw new Error(`Could not load the trainer (dist/attnlens-train.wasm): ${error.message ?? error}`);
});

// A macrotask turn without setTimeout's clamping, so queued messages (stop) are delivered.
const channel = new MessageChannel();
const resumers = [];
channel.port1.onmessage = () => resumers.shift()?.();
const yieldToMessages = () => new Promise((resolve) => { resumers.push(resolve); channel.port2.postMessage(null); });

async function readData(data) {
  if (data.cueTask) return { ...lens.cueTask(data.cueTask), source: 'the cue-word task' };
  if (data.file) return parseLabelled(new Uint8Array(await data.file.arrayBuffer()), data.file.name);
  if (data.files) return readImdbFolder(data.files);
  if (Array.isArray(data.texts)) return { texts: data.texts, labels: data.labels, source: data.source ?? 'labelled texts' };
  throw new Error('No training data given');
}

const classifyProbe = () => (probe === null ? null : trainer.classify(probe));

const handlers = {
  async create({ source, data, options = {}, probe: probeText = null, checkpoint = null }) {
    lens = await enginePromise;
    trainer?.delete();
    trainer = null;
    const examples = await readData(data);
    const settings = { data: examples.source, ...options };
    if (source.config) {
      trainer = lens.Trainer.create(source.config, examples.texts, examples.labels, settings);
    } else {
      const bytes = source.modelBytes ?? await fetchBytes(new URL(source.modelUrl, import.meta.url), 'the model to fine-tune');
      trainer = lens.Trainer.fromBytes(bytes, examples.texts, examples.labels, settings);
    }
    let history = [];
    if (checkpoint) history = trainer.resume(checkpoint);
    // The cue task's probe: a text the model never trains on (another seed), with its cue's place.
    let cue = null;
    if (probeText === null && data.cueTask) {
      const one = lens.cueTask({ ...data.cueTask, count: 1, seed: (data.cueTask.seed ?? 1) + 1000003 });
      [probeText, cue] = [one.texts[0], { index: one.cues[0], negated: one.negated[0], label: one.labels[0] }];
    }
    probe = probeText;
    return { info: trainer.info(), history, examples: examples.texts.length, skipped: examples.skipped ?? 0, source: examples.source,
      probe: probe === null ? null : { text: probe, cue, prediction: classifyProbe() } };
  },

  async train({ epochs }) {
    if (!trainer) throw new Error('Create the trainer first');
    if (training) throw new Error('Already training');
    training = true;
    stopRequested = false;
    const target = trainer.info().completedEpochs + epochs;
    try {
      while (!stopRequested && trainer.info().completedEpochs < target) {
        const step = trainer.step();
        postMessage({ type: step.epochDone ? 'epoch' : 'batch', step, probe: classifyProbe() });
        await yieldToMessages();  // a stop (or another request) is heard after every batch
      }
    } finally {
      training = false;
    }
    return { stopped: stopRequested, completedEpochs: trainer.info().completedEpochs };
  },

  async evaluate({ data }) {
    const examples = await readData(data);
    return trainer.evaluate(examples.texts, examples.labels);
  },

  async classify({ text }) {
    return trainer.classify(String(text));
  },

  async export() {
    return trainer.toBytes();
  },

  async checkpoint({ history = [] }) {
    if (training) throw new Error('Stop the training before taking a checkpoint');
    return trainer.checkpoint(history);
  },
};

onmessage = async ({ data: message }) => {
  if (message?.type === 'stop') {
    stopRequested = true;
    return;
  }
  const handler = handlers[message?.type];
  if (!handler) return;
  try {
    if (!trainer && message.type !== 'create') throw new Error('Create the trainer first');
    const result = await handler(message);
    postMessage({ type: 'reply', id: message.id, result }, result instanceof Uint8Array ? [result.buffer] : []);
  } catch (error) {
    postMessage({ type: 'failed', id: message.id, message: error.message ?? String(error) });
  }
};
