// embed.html's script: builds one element from the URL fragment and reports its height to the
// parent page. Fragment keys: model, text, mode, compare, explanation, theme (and for the
// translator: kind=translate, beam, baseline). Values are read as text only.
import './attn-lens.js';

const CLASSIFIER_KEYS = ['model', 'text', 'mode', 'compare', 'explanation', 'theme'];
const TRANSLATOR_KEYS = ['model', 'text', 'mode', 'beam', 'baseline', 'theme'];

function build() {
  const params = new URLSearchParams(location.hash.slice(1));
  const translate = params.get('kind') === 'translate';
  const element = document.createElement(translate ? 'attn-lens-translate' : 'attn-lens');
  for (const key of translate ? TRANSLATOR_KEYS : CLASSIFIER_KEYS) {
    const value = params.get(key);
    if (value !== null) element.setAttribute(key, value.slice(0, 100000));
  }
  element.loading = 'eager';
  document.querySelector('main > attn-lens, main > attn-lens-translate')?.remove();
  document.querySelector('main').append(element);
  return element;
}

let element = build();
window.addEventListener('hashchange', () => { element = build(); });

// The parent sizes the frame to its content: <iframe> height = the reported height.
let last = 0;
new ResizeObserver(() => {
  const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
  if (height === last) return;
  last = height;
  window.parent?.postMessage({ type: 'attn-lens-embed-size', height }, '*');
}).observe(document.body);
export { element };
