// Types for attn-lens.js: the <attn-lens> and <attn-lens-translate> elements and the JS API
// around them. The engine module itself (attnlens.js, "attn-lens/engine") is described in the
// project's README.

/** classify()'s explanations (weights that sum to 1; contribution: signed scores), then model.explain's other methods (scores). */
export type Explanation = 'auto' | 'attention' | 'gradient-x-input' | 'contribution'
  | 'attention-rollout' | 'gradient' | 'integrated-gradients' | 'occlusion' | 'random';
export type ElementState = 'idle' | 'loading' | 'ready' | 'error';

export interface AttnLensToken {
  /** The token as the model read it (lower-cased). */
  text: string;
  /** UTF-16 offsets into the text: text.slice(start, end) is the word as written. */
  start: number;
  end: number;
  /** Its weight; a text's weights sum to 1 — or, for model.explain's methods, its score (signed for
   *  integrated-gradients and occlusion: above 0 for the prediction, below 0 against it). */
  weight: number;
  /** Not in the model's vocabulary (read as <unk>). */
  oov: boolean;
}

export interface AttnLensResult {
  text: string;
  model: string;
  label: 'positive' | 'negative';
  /** Probability of the positive class. */
  probability: number;
  logit: number;
  /** What the weights are: classify()'s kinds, or the model.explain method that scored them. */
  explanation: 'attention' | 'self-attention' | 'gradient×input' | 'contribution'
    | 'attention-rollout' | 'gradient' | 'integrated-gradients' | 'occlusion' | 'random';
  tokens: AttnLensToken[];
  /** model.explain's methods: how a token's score is made, in words; scores, not shares; signed or not (contribution: signed scores, no words). */
  aggregation?: string;
  scale?: 'score';
  signed?: boolean;
  /** integrated-gradients: |Σ scores − (F(x) − F(x′))|. */
  completenessGap?: number;
  /** For 'self-attention': the layer, and the head (−1: the mean over heads). */
  attentionLayer?: number;
  attentionHead?: number;
  /** Time in the engine, and from the request to the result. */
  engineMs: number;
  latencyMs: number;
}

export interface AttnLensTranslation {
  text: string;
  model: string;
  translation: string;
  sourceTokens: { text: string; start: number; end: number; oov: boolean }[];
  targetTokens: string[];
  /** One row per French token, one column per English token; each row sums to 1. */
  attention: number[][];
  logProbability: number;
  truncated: boolean;
  beam: number;
  /** The baseline translator's output, or null. */
  baseline: string | null;
  engineMs: number;
}

export interface ModelInfo {
  architecture: string;
  description: string;
  vocabularySize: number;
  parameters: number;
  hasAttention: boolean;
  /** With an n-gram path joined to the network: its order (2 or 3), else 0. Auto then shows the contributions. */
  ngramPath: number;
  transformerLayers: number;
  transformerHeads: number;
  testAccuracy: number | null;
  testCount: number | null;
  validationAccuracy: number | null;
  [key: string]: unknown;
}

export class AttnLensElement extends HTMLElement {
  /** A shipped model's name, the URL of an attnlens .safetensors file, or a registered name. */
  model: string;
  /** The text; without the attribute, the element's text content. */
  text: string;
  mode: 'edit' | 'figure';
  /** Model names separated by spaces, shown side by side. */
  compare: string;
  explanation: Explanation;
  theme: 'auto' | 'light' | 'dark';
  loading: 'lazy' | 'eager';
  tools: 'all' | 'none';
  /** The page Copy link points to (default: the package's embed.html). */
  link: string;
  readonly result: AttnLensResult | null;
  /** One entry per model shown, in order; null while that model has no result yet. */
  readonly results: (AttnLensResult | null)[];
  readonly state: ElementState;
  readonly modelInfo: ModelInfo | null;
  readonly models: string[];
  /** Shows and classifies the text; one result, or one per model in compare mode. */
  classify(text?: string): Promise<AttnLensResult | AttnLensResult[]>;
}

export class AttnLensTranslateElement extends HTMLElement {
  model: string;
  /** A translator shown beside it without its alignment, or 'none'. */
  baseline: string;
  text: string;
  mode: 'edit' | 'figure';
  /** '1': greedy; '2'–'16': beam search of that width. */
  beam: string;
  theme: 'auto' | 'light' | 'dark';
  loading: 'lazy' | 'eager';
  tools: 'all' | 'none';
  /** The page Copy link points to (default: the package's embed.html, which reads #kind=translate&text=…). */
  link: string;
  readonly result: AttnLensTranslation | null;
  readonly state: ElementState;
  translate(text?: string): Promise<AttnLensTranslation>;
}

/** Model bytes under a name of your own; <attn-lens model="name"> then uses them. */
export function registerModel(name: string, bytes: Uint8Array, options?: { title?: string }): void;

/** The page's one engine, shared by every element. */
export const engine: EventTarget & {
  manifest(): Promise<{ models: string[]; baselines: string[]; translators: string[] }>;
  register(name: string, bytes: Uint8Array): void;
  acquire(model: string, kind?: 'classifier' | 'translator'): Promise<{ key: string; info: ModelInfo }>;
  release(key: string): void;
  classify(key: string, text: string, options?: { explanation?: Explanation; layer?: number; head?: number }):
    Promise<{ result: Omit<AttnLensResult, 'text' | 'model' | 'engineMs' | 'latencyMs'>; milliseconds: number }>;
  /** model.explain, model.faithfulness and model.attentionExperiments (README: the JS API): forward-only methods in attnlens.wasm, gradient methods in the engine with gradients. */
  explain(key: string, text: string, options?: { method?: string; steps?: number; baseline?: 'zero' | 'pad'; rule?: 'gauss-legendre' | 'riemann';
    window?: 1 | 3; occlude?: 'delete' | 'pad'; seed?: number; layer?: number; head?: number }): Promise<{ result: object; milliseconds: number }>;
  faithfulness(key: string, text: string, options?: { methods?: string[]; removal?: 'delete' | 'pad'; seed?: number; steps?: number;
    baseline?: 'zero' | 'pad'; window?: 1 | 3 }): Promise<{ result: object; milliseconds: number }>;
  attentionExperiments(key: string, text: string, options?: { permutations?: number; seed?: number; tolerance?: number }):
    Promise<{ result: object; milliseconds: number }>;
  translate(key: string, text: string, options?: { beam?: number }): Promise<{ result: object; milliseconds: number }>;
  stats(): { workersStarted: number; workerRunning: boolean; models: { key: string; holders: number }[] };
};

export const VERSION: string;

declare global {
  interface HTMLElementTagNameMap {
    'attn-lens': AttnLensElement;
    'attn-lens-translate': AttnLensTranslateElement;
  }
  interface HTMLElementEventMap {
    'attn-lens-ready': CustomEvent<{ models: { name: string; info: ModelInfo }[] }>;
    'attn-lens-result': CustomEvent<AttnLensResult | AttnLensTranslation>;
    'attn-lens-error': CustomEvent<{ message: string }>;
    'attn-lens-link': CustomEvent<{ link: string }>;
  }
}
