// The Save as HTML / SVG / PNG and Copy link buttons that <attn-lens> and <attn-lens-translate>
// share. The element says what there is to export:
//   exportFile(kind, {accent, font}) → {blob: Blob | Promise<Blob>, name} | null   (null: nothing yet)
//   linkParams() → [[key, value], …]   the URL fragment that restores what it shows (null: left out)
// and the toolbar does the rest: downloads, the clipboard (or a selected field to copy by hand when
// there is none), announcements, and notices when something cannot be made.
import { announce, el } from './attn-lens-view.js';
import { download } from './attn-lens-export.js';

// Where Copy link points by default: the package's own iframe page, which restores the fragment.
export const EMBED_PAGE = new URL('./embed.html', import.meta.url).href;

export class Toolbar {
  constructor(host, { linkLabel = 'Link to this text and model' } = {}) {
    this.host = host;
    this.root = el('div', 'tools');
    this.root.setAttribute('part', 'tools');
    this.root.setAttribute('role', 'group');
    this.root.setAttribute('aria-label', 'Save or share this result');
    for (const [label, action] of [['Save as HTML', () => this.save('html')], ['SVG', () => this.save('svg')],
      ['PNG', () => this.save('png')], ['Copy link', () => this.copyLink()]]) {
      const button = el('button', '', label);
      button.type = 'button';
      button.setAttribute('part', 'button');
      if (label === 'SVG' || label === 'PNG') button.setAttribute('aria-label', `Save as ${label}`);
      button.addEventListener('click', action);
      this.root.append(button);
    }
    this.linkField = el('input', 'link-field');
    this.linkField.readOnly = true;
    this.linkField.hidden = true;
    this.linkField.setAttribute('aria-label', linkLabel);
    this.root.append(this.linkField);
    this.root.hidden = true;
  }

  // Shown once there is a result, unless the element says tools="none".
  update(hasResult) { this.root.hidden = this.host.tools === 'none' || !hasResult; }

  options() {
    const style = getComputedStyle(this.host);
    return { accent: style.getPropertyValue('--attn-lens-accent').trim() || undefined,
      against: style.getPropertyValue('--attn-lens-against').trim() || undefined, font: style.fontFamily };
  }

  async save(kind) {
    try {
      const file = this.host.exportFile(kind, this.options());
      if (!file) return;
      download(await file.blob, file.name);
      announce(`Saved as ${kind.toUpperCase()}.`, { delay: 0 });
    } catch (error) {
      this.host.notice(`Could not save: ${error.message ?? error}`);
    }
  }

  // A link that restores what the element shows: its link attribute (read against the page; the
  // package's embed.html by default) with the fragment. A fragment is never sent to a server, so
  // long texts are kept whole.
  async copyLink() {
    let link;
    try {
      const url = new URL(this.host.link, document.baseURI);
      const params = new URLSearchParams();
      for (const [key, value] of this.host.linkParams()) if (value !== null && value !== undefined) params.set(key, value);
      url.hash = params.toString();
      link = url.href;
    } catch (error) {
      this.host.notice(`Could not make a link: ${error.message ?? error}`);
      return;
    }
    try {
      await navigator.clipboard.writeText(link);
      this.linkField.hidden = true;
      announce('Link copied.', { delay: 0 });
    } catch {
      // No clipboard here (an insecure page, a refused permission): the link, selected, to copy by hand.
      this.linkField.value = link;
      this.linkField.hidden = false;
      this.linkField.select();
      announce('The link is selected: copy it with your keyboard.', { delay: 0 });
    }
    this.host.emit('attn-lens-link', { link });
  }
}
