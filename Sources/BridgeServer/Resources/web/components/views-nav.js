// The views: built-in ones, each department's queue and saved views. Choosing one loads its list.
import { el } from '../dom.js';
import { t } from '../i18n.js';

export class ViewsNav extends HTMLElement {
  set store(store) {
    this._store = store;
    store.addEventListener('change', (event) => {
      if (['meta', 'list'].includes(event.detail.what)) this.render();
    });
  }

  connectedCallback() { this.render(); }

  render() {
    const store = this._store;
    if (!store) return;
    const groups = { main: [], departments: [], saved: [] };
    for (const view of store.views()) {
      const current = view.key === store.viewKey;
      const button = el('button', {
        class: 'view',
        text: view.label ? t(view.label) : view.name,
        attrs: { type: 'button', 'aria-current': current ? 'page' : false, 'data-view': view.key },
        on: { click: () => this.dispatchEvent(new CustomEvent('choose-view', { bubbles: true, detail: view.key })) },
      });
      groups[view.group].push(el('li', {}, button));
    }
    const section = (title, items) => (items.length ? [el('h2', { class: 'nav-heading', text: title }), el('ul', {}, items)] : []);
    this.replaceChildren(el('nav', { attrs: { 'aria-label': t('views') } },
      el('ul', {}, groups.main),
      ...section(t('views.departments'), groups.departments),
      ...section(t('views.saved'), groups.saved)));
  }
}
customElements.define('views-nav', ViewsNav);
