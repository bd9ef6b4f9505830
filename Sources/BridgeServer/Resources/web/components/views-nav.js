// The views: built-in ones, each department's queue and saved views, each with its live count
// (the store's, from POST /tickets/counts; a saved view that searches words has none). Choosing one
// loads its list. The buttons are built when the views change; counts and the current view are
// updated in place.
import { el } from '../dom.js';
import { formatNumber, t } from '../i18n.js';

export class ViewsNav extends HTMLElement {
  set store(store) {
    this._store = store;
    store.addEventListener('change', (event) => {
      const { what } = event.detail;
      if (what === 'meta') this.render();
      else if (what === 'list' || what === 'counts') this.update();
    });
  }

  connectedCallback() { this.render(); }

  render() {
    const store = this._store;
    if (!store) return;
    const groups = { main: [], departments: [], saved: [] };
    this.buttons = new Map();
    for (const view of store.views()) {
      const count = el('span', { class: 'count', attrs: { 'aria-hidden': 'true' } });
      const button = el('button', {
        class: 'view',
        attrs: { type: 'button', 'data-view': view.key },
        on: { click: () => this.dispatchEvent(new CustomEvent('choose-view', { bubbles: true, detail: view.key })) },
      }, el('span', { class: 'view-name', text: view.label ? t(view.label) : view.name }), count);
      this.buttons.set(view.key, { button, count });
      groups[view.group].push(el('li', {}, button));
    }
    const section = (title, items) => (items.length ? [el('h2', { class: 'nav-heading', text: title }), el('ul', {}, items)] : []);
    this.replaceChildren(el('nav', { attrs: { 'aria-label': t('views') } },
      el('ul', {}, groups.main),
      ...section(t('views.departments'), groups.departments),
      ...section(t('views.saved'), groups.saved)));
    this.update();
  }

  update() {
    const store = this._store;
    if (!store || !this.buttons) return;
    for (const [key, { button, count }] of this.buttons) {
      if (key === store.viewKey) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
      const n = store.counts.get(key);
      const text = n == null ? '' : formatNumber(n);
      if (count.textContent !== text) count.textContent = text;
      if (n == null) button.removeAttribute('aria-description');
      else button.setAttribute('aria-description', t('views.count', { count: text }));
    }
  }
}
customElements.define('views-nav', ViewsNav);
