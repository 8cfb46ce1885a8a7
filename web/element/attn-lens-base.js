// What <attn-lens> and <attn-lens-translate> share: the shadow root with the adopted stylesheet,
// attributes reflected as properties (and properties set before the element was defined passed
// on), the text (attribute, else text content), the edit box, lazy start about two screen heights
// ahead, the state (also a CSS custom state: attn-lens:state(ready)) and the events.
// A subclass implements open() (start using the engine), release() (stop), run() (the text changed)
// and attributeChanged(name, value) for its own attributes.
import { styleSheet } from './attn-lens-style.js';
import { announce, el } from './attn-lens-view.js';

const HTMLBase = globalThis.HTMLElement ?? class {};
const STATES = ['idle', 'loading', 'ready', 'error'];

export class LensElement extends HTMLBase {
  // Subclasses: {attribute: default} for the attributes reflected as properties.
  static reflected = {};
  static get observedAttributes() { return [...Object.keys(this.reflected), 'text', 'label']; }

  constructor() {
    super();
    this.shadow = this.attachShadow({ mode: 'open' });
    const sheet = styleSheet();
    if (sheet) this.shadow.adoptedStyleSheets = [sheet];
    this.frame = el('div', 'frame');
    this.frame.setAttribute('part', 'frame');
    this.statusNode = el('p', 'status');
    this.statusNode.setAttribute('part', 'status');
    this.frame.append(this.statusNode);
    this.shadow.append(this.frame);
    this.input = null;
    this.started = false;
    this.currentText = null;
    this.stateName = 'idle';
    this.observer = null;
    try {
      this.internals = this.attachInternals?.() ?? null;
    } catch {
      this.internals = null;
    }
  }

  get text() { return this.currentText ?? this.initialText(); }
  set text(value) {
    const text = String(value ?? '');
    if (this.getAttribute('text') !== text) this.setAttribute('text', text);  // attributeChangedCallback shows it
    else this.setText(text);  // the same attribute again, after the reader typed something else: show it again
  }
  get state() { return this.stateName; }

  connectedCallback() {
    for (const name of this.constructor.observedAttributes) {
      if (Object.hasOwn(this, name)) {  // set before the element was defined
        const value = this[name];
        delete this[name];
        this[name] = value;
      }
    }
    if (this.currentText === null) this.currentText = this.initialText();
    this.buildInput();
    this.connected();
    if (this.loading === 'eager' || typeof IntersectionObserver !== 'function') {
      this.start();
    } else if (!this.started) {
      this.setState('idle');
      // Start about two screen heights ahead, as Distill's figures do.
      this.observer = new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) this.start();
      }, { rootMargin: '200% 0px 200% 0px' });
      this.observer.observe(this);
    }
  }

  disconnectedCallback() {
    this.observer?.disconnect();
    this.observer = null;
    this.started = false;
    this.release();
  }

  attributeChangedCallback(name, previous, value) {
    if (name === 'text') {  // also while disconnected: the element comes back with it
      if (previous !== value || !this.isConnected) this.setText(value ?? this.textFromContent());
      return;
    }
    if (!this.isConnected || previous === value) return;
    if (name === 'mode') this.buildInput();
    else if (name === 'label') this.input?.setAttribute('aria-label', value ?? this.inputLabel);
    else if (name === 'loading') {
      if (value === 'eager') this.start();
    } else this.attributeChanged(name, value);
  }

  // The text attribute, else the text content (which a reader without JavaScript sees).
  initialText() {
    const attribute = this.getAttribute('text');
    return attribute !== null ? attribute : this.textFromContent();
  }

  textFromContent() { return (this.textContent ?? '').replace(/\s+/g, ' ').trim(); }

  // mode="edit" (the default): a box to type into, before everything else in the frame.
  buildInput() {
    const editing = this.mode !== 'figure';
    if (editing && !this.input) {
      this.input = el('textarea');
      this.input.setAttribute('part', 'input');
      this.input.setAttribute('aria-label', this.getAttribute('label') ?? this.inputLabel);
      this.input.rows = this.inputRows;
      this.input.placeholder = this.getAttribute('placeholder') ?? this.inputPlaceholder;
      this.input.spellcheck = true;
      this.input.addEventListener('input', () => {
        this.currentText = this.input.value;
        this.run();
      });
      this.inputControls = this.makeInputControls();
      this.frame.prepend(this.input, ...this.inputControls);
    } else if (!editing && this.input) {
      for (const node of [this.input, ...this.inputControls]) node.remove();
      this.input = null;
      this.inputControls = [];
    }
    if (this.input && this.input.value !== this.text) this.input.value = this.text;
  }

  setText(text) {
    this.currentText = text;
    if (this.input && this.input.value !== text) this.input.value = text;
    if (this.isConnected) this.run();
  }

  setState(state, message = '') {
    this.stateName = state;
    this.statusNode.textContent = message;
    this.statusNode.className = `status ${state}`;
    try {
      for (const s of STATES) this.internals?.states?.delete(s);
      this.internals?.states?.add(state);
    } catch {
      // A browser with the older custom-state syntax: the state property still says it.
    }
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // A message that is not a failure of the element (an export that could not be made): shown and
  // announced, the state unchanged.
  notice(message) {
    this.statusNode.textContent = message;
    this.statusNode.className = `status ${this.stateName} notice`;
    announce(message, { delay: 0 });
  }

  // The engine's worker stopped (attn-lens-client.js's 'stopped' event): a ready element says so;
  // one whose request was in flight shows that request's error instead.
  engineStopped({ detail }) {
    if (this.started && this.stateName === 'ready') this.notice(`${detail.message}. It starts again with your next change.`);
  }

  fail(message) {
    this.setState('error', message);
    this.emit('attn-lens-error', { message });
    announce(message, { delay: 0 });
  }

  start() {
    if (this.started || !this.isConnected) return;
    this.started = true;
    this.observer?.disconnect();
    this.observer = null;
    this.open();
  }

  // Subclass hooks.
  get inputLabel() { return 'Text'; }
  get inputRows() { return 3; }
  get inputPlaceholder() { return ''; }
  makeInputControls() { return []; }
  connected() {}
  open() {}
  release() {}
  run() {}
  attributeChanged() {}

  // Defines the reflected properties of a subclass and registers it under `tag`, unless a copy of
  // this package (or another version) already did.
  static register(tag, cls) {
    for (const [name, fallback] of Object.entries(cls.reflected)) {
      Object.defineProperty(cls.prototype, name, {
        get() { return this.getAttribute(name) ?? fallback; },
        set(value) {
          if (value === null || value === undefined) this.removeAttribute(name);
          else this.setAttribute(name, Array.isArray(value) ? value.join(' ') : String(value));
        },
        configurable: true,
        enumerable: true,
      });
    }
    if (globalThis.customElements && !customElements.get(tag)) customElements.define(tag, cls);
  }
}
