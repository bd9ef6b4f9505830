// The ticket list's extra filters: a "Filters" button opens a small row of labelled controls
// (channel, priority, tag) that add `channel=`, `priority=`, `tag=` to the view's query; each filter
// in force shows as a chip that removes it. Filters belong to the view (store.viewFilters) and last
// while the page is open.
import { el } from '../dom.js';
import { t } from '../i18n.js';

const CHANNELS = ['line', 'whatsapp', 'messenger', 'instagram', 'sms', 'wechat', 'webchat', 'email'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

export class ListFilters extends HTMLElement {
  set store(store) {
    this._store = store;
    store.addEventListener('change', (event) => { if (event.detail.what === 'filters') this.render(); });
  }

  connectedCallback() {
    if (this.built) return;
    this.built = true;
    this.toggle = el('button', {
      class: 'quiet filter-toggle',
      attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'list-filter-panel' },
      on: { click: () => this.open(this.panel.hidden) },
    });
    const select = (id, values, label) => el('select', { attrs: { id } }, el('option', { attrs: { value: '' } }), values.map((v) => el('option', { attrs: { value: v }, text: label(v) })));
    this.channel = select('filter-channel', CHANNELS, (v) => t(`channel.${v}`));
    this.priority = select('filter-priority', PRIORITIES, (v) => t(`priority.${v}`));
    this.tag = el('input', { attrs: { id: 'filter-tag', type: 'text', autocomplete: 'off', maxlength: '64' } });
    this.channel.addEventListener('change', () => this._store.setFilter('channel', this.channel.value));
    this.priority.addEventListener('change', () => this._store.setFilter('priority', this.priority.value));
    this.labels = {
      channel: el('label', { attrs: { for: 'filter-channel' } }),
      priority: el('label', { attrs: { for: 'filter-priority' } }),
      tag: el('label', { attrs: { for: 'filter-tag' } }),
    };
    this.addTag = el('button', { class: 'quiet', attrs: { type: 'submit' } });
    this.panel = el('form', { class: 'filter-panel', attrs: { id: 'list-filter-panel', hidden: true } },
      el('span', { class: 'filter-field' }, this.labels.channel, this.channel),
      el('span', { class: 'filter-field' }, this.labels.priority, this.priority),
      el('span', { class: 'filter-field' }, this.labels.tag, this.tag, this.addTag));
    this.panel.addEventListener('submit', (event) => {
      event.preventDefault();
      const tag = this.tag.value.trim().replace(/^#/, '');
      if (tag) this._store.setFilter('tag', tag);
      this.tag.value = '';
    });
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.stopPropagation(); this.open(false); this.toggle.focus(); }
    });
    this.chips = el('ul', { class: 'filter-chips' });
    this.replaceChildren(this.toggle, this.chips, this.panel);
    this.relabel();
  }

  open(on) {
    this.panel.hidden = !on;
    this.toggle.setAttribute('aria-expanded', String(on));
    if (on) this.channel.focus();
  }

  relabel() {
    if (!this.built) return;
    this.labels.channel.textContent = t('filter.channel');
    this.labels.priority.textContent = t('filter.priority');
    this.labels.tag.textContent = t('filter.tag');
    this.addTag.textContent = t('filter.addTag');
    this.channel.options[0].textContent = t('filter.any');
    this.priority.options[0].textContent = t('filter.any');
    CHANNELS.forEach((v, i) => { this.channel.options[i + 1].textContent = t(`channel.${v}`); });
    PRIORITIES.forEach((v, i) => { this.priority.options[i + 1].textContent = t(`priority.${v}`); });
    this.chips.setAttribute('aria-label', t('filter.active'));
    this.render();
  }

  /** The controls and chips for the current view's filters. */
  render() {
    if (!this.built || !this._store) return;
    const filters = this._store.filters();
    const count = Object.keys(filters).length;
    this.toggle.textContent = count ? t('filter.buttonCount', { count }) : t('filter.button');
    this.channel.value = filters.channel ?? '';
    this.priority.value = filters.priority ?? '';
    const shown = (name, value) => (name === 'channel' ? t(`channel.${value}`) : name === 'priority' ? t(`priority.${value}`) : `#${value}`);
    this.chips.replaceChildren(...['channel', 'priority', 'tag'].filter((name) => filters[name]).map((name) => {
      const text = `${t(`filter.${name}`)}: ${shown(name, filters[name])}`;
      return el('li', {}, el('button', {
        class: 'chip', text: `${text} ×`,
        attrs: { type: 'button', 'aria-label': t('filter.remove', { filter: text }) },
        on: { click: () => { this._store.setFilter(name, ''); this.toggle.focus(); } },
      }));
    }));
    this.chips.hidden = count === 0;
  }
}
customElements.define('list-filters', ListFilters);
