// Mass actions on the tickets selected in the list (checkboxes, shift-click for a range, `x`):
// resolve (with a reason), assign (agent or department), tag — one POST /tickets/bulk each. A ticket
// the server could not change stays selected and the bar says how many failed.
import { el } from '../dom.js';
import { t } from '../i18n.js';

export class BulkBar extends HTMLElement {
  set store(store) {
    this._store = store;
    store.addEventListener('change', (event) => { if (['selection', 'list'].includes(event.detail.what)) this.render(); });
  }

  connectedCallback() {
    this.setAttribute('role', 'toolbar');
    this.render();
  }

  render() {
    const store = this._store;
    if (!store) return;
    const count = [...store.selected].filter((id) => store.list.ids.includes(id)).length;
    this.hidden = count === 0;
    this.setAttribute('aria-label', t('bulk.label'));
    if (!count) { this.replaceChildren(); this.result = null; return; }
    const button = (label, run) => el('button', { text: t(label), attrs: { type: 'button' }, on: { click: run } });
    this.replaceChildren(...[
      el('span', { class: 'bulk-count', text: t('bulk.count', { count }), attrs: { role: 'status' } }),
      button('action.resolve', () => this.resolve()),
      button('bulk.assign', () => this.assign()),
      button('bulk.tag', () => this.tag()),
      el('span', { class: 'spacer' }),
      this.result ? el('span', { class: 'bulk-result', text: this.result }) : null,
      el('button', { class: 'quiet', text: t('bulk.clear'), attrs: { type: 'button' }, on: { click: () => store.clearSelection() } }),
    ].filter(Boolean));
  }

  async apply(action) {
    const result = await this._store.bulk(action);
    this.result = result.failed ? t('bulk.failed', { count: result.failed, message: result.items.find((i) => !i.ok)?.error?.message ?? '' }) : null;
    this.render();
  }

  async dialog(name) {
    const dialogs = await import('./action-dialogs.js');
    return dialogs[name](this._store, (action) => this.apply(action));
  }

  resolve() { return this.dialog('bulkResolve'); }
  assign() { return this.dialog('bulkAssign'); }
  tag() { return this.dialog('bulkTag'); }
}
customElements.define('bulk-bar', BulkBar);
