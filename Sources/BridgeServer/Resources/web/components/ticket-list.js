// The ticket list of the chosen view: search, sort, and rows rendered from the store, 50 at a time
// (the API's cursor pages; the next page loads when the end of the list scrolls into view). A row is
// filled again only when its ticket (a new object from the store), its selection or its checkbox
// changed, or when every row must be (language, the minute clock): opening a ticket moves the
// selection mark between two rows rather than refilling the list.
import { clone, el, fillChannel } from '../dom.js';
import { formatSince, formatTime, t } from '../i18n.js';
import { mayAnswer } from '../access.js';
import './bulk-bar.js';
import './list-filters.js';

export class TicketList extends HTMLElement {
  set store(store) {
    this._store = store;
    store.addEventListener('change', (event) => {
      const { what } = event.detail;
      if (what === 'list' || what === 'ticket' || what === 'open' || what === 'selection') this.renderRows();
    });
  }

  connectedCallback() {
    if (this.built) return;
    this.built = true;
    this.search = el('input', {
      class: 'search',
      attrs: { id: 'ticket-search', type: 'search', placeholder: t('list.searchPlaceholder'), autocomplete: 'off', 'aria-keyshortcuts': '/' },
    });
    this.searchLabel = el('label', { class: 'visually-hidden', text: t('list.search'), attrs: { for: 'ticket-search' } });
    let debounce;
    this.search.addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => this._store.setSearch(this.search.value), 250);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') { clearTimeout(debounce); this._store.setSearch(this.search.value); }
    });
    this.sort = el('select', { class: 'sort', attrs: { id: 'ticket-sort' } });
    this.sortLabel = el('label', { class: 'visually-hidden', text: t('list.sort'), attrs: { for: 'ticket-sort' } });
    this.sort.addEventListener('change', () => this._store.setSort(this.sort.value));
    this.list = el('ul', { class: 'rows', attrs: { role: 'listbox', 'aria-label': t('list.label') } });
    this.list.addEventListener('click', (event) => {
      const row = event.target.closest('.row');
      if (!row) return;
      const id = Number(row.dataset.id);
      if (event.target.closest('.row-pick') || event.shiftKey) {
        // The checkbox (or shift-click anywhere on a row): select, shift for a range. The box's own
        // click keeps its default (preventing it would undo the checked state the render sets).
        if (!event.target.matches('.row-check')) event.preventDefault();
        if (row.querySelector('.row-check').disabled) return;
        this._store.toggleSelected(id, { range: event.shiftKey });
        return;
      }
      this.choose(id);
    });
    this.list.addEventListener('keydown', (event) => {
      const row = event.target.closest('.row');
      if (row && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); this.choose(Number(row.dataset.id)); }
    });
    this.status = el('p', { class: 'list-status', attrs: { role: 'status' } });
    this.more = el('button', { class: 'more', attrs: { type: 'button' }, on: { click: () => this._store.loadMore() } });
    this.sentinel = el('div', { class: 'sentinel' });
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this._store.loadMore();
    }).observe(this.sentinel);
    this.rows = new Map();
    this.bulkBar = document.createElement('bulk-bar');
    this.bulkBar.store = this._store;
    this.filters = document.createElement('list-filters');
    this.filters.store = this._store;
    this.replaceChildren(
      el('div', { class: 'list-head' }, this.searchLabel, this.search, this.sortLabel, this.sort),
      this.filters,
      this.bulkBar,
      el('div', { class: 'list-scroll' }, this.list, this.status, this.more, this.sentinel));
    this.generation = 0;
    this.clock = setInterval(() => { this.generation += 1; this.renderRows(); }, 60000);
    this.relabel();
    this.renderRows();
  }

  disconnectedCallback() { clearInterval(this.clock); }

  relabel() {
    this.generation += 1;
    this.search.placeholder = t('list.searchPlaceholder');
    this.searchLabel.textContent = t('list.search');
    this.sortLabel.textContent = t('list.sort');
    this.list.setAttribute('aria-label', t('list.label'));
    this.sort.replaceChildren(
      el('option', { text: t('list.sort.newest'), attrs: { value: 'newest' } }),
      el('option', { text: t('list.sort.waiting'), attrs: { value: 'waiting' } }));
    this.sort.value = this._store?.sort ?? 'newest';
    this.more.textContent = t('list.more');
    this.bulkBar?.render?.();
    this.filters?.relabel?.();
  }

  choose(id) {
    this.dispatchEvent(new CustomEvent('open-ticket', { bubbles: true, detail: id }));
  }

  focusSearch() {
    this.search.focus();
    this.search.select();
  }

  renderRows() {
    const store = this._store;
    if (!store || !this.list) return;
    const ids = store.visibleIds();
    const focusedId = this.list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    const keep = new Set(ids);
    for (const [id, row] of this.rows) if (!keep.has(id)) { row.remove(); this.rows.delete(id); }
    let previous = null;
    for (const id of ids) {
      let row = this.rows.get(id);
      if (!row) { row = clone('ticket-row'); this.rows.set(id, row); }
      const ticket = store.tickets.get(id);
      const open = id === store.openId;
      const picked = store.selected.has(id);
      const was = row.filledWith;
      if (!was || was.ticket !== ticket || was.open !== open || was.picked !== picked || was.generation !== this.generation) {
        this.fill(row, ticket, open);
        row.filledWith = { ticket, open, picked, generation: this.generation };
      }
      const expected = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (expected !== row) this.list.insertBefore(row, expected);
      previous = row;
    }
    if (focusedId && this.rows.has(Number(focusedId))) this.rows.get(Number(focusedId)).focus();
    const { loading, loaded, error, nextCursor } = store.list;
    this.status.textContent = error ?? (loading ? t('list.loading') : loaded && ids.length === 0 ? t('list.empty') : '');
    this.more.hidden = !nextCursor || loading;
    if (!this.list.querySelector('[tabindex="0"]') && this.list.firstElementChild) this.list.firstElementChild.tabIndex = 0;
  }

  fill(row, ticket, selected) {
    const store = this._store;
    row.dataset.id = ticket.id;
    row.setAttribute('aria-selected', String(selected));
    row.tabIndex = selected ? 0 : -1;
    row.classList.toggle('unread', !!ticket.unread);
    const name = ticket.contact.displayName || t('contact.unknown', { id: ticket.contact.id });
    const check = row.querySelector('.row-check');
    const selectable = mayAnswer(store.me, ticket);
    check.disabled = !selectable;
    check.checked = selectable && store.selected.has(ticket.id);
    check.setAttribute('aria-label', t('list.select', { name }));
    row.classList.toggle('picked', check.checked);
    row.querySelector('.row-name').textContent = name;
    row.querySelector('.row-name').title = name;
    row.querySelector('.row-unread').textContent = ticket.unread ? '●' : '';
    row.setAttribute('aria-description', ticket.unread ? t('list.unread') : '');
    const wait = row.querySelector('.row-wait');
    if (ticket.waitingSince && ['new', 'open'].includes(ticket.status)) {
      wait.textContent = formatSince(ticket.waitingSince);
      wait.title = t('list.waiting', { time: formatSince(ticket.waitingSince) });
      wait.classList.add('waiting');
    } else {
      wait.textContent = formatTime(ticket.lastMessage?.createdAt ?? ticket.updatedAt);
      wait.title = '';
      wait.classList.remove('waiting');
    }
    const last = ticket.lastMessage;
    const preview = row.querySelector('.row-preview');
    preview.textContent = last ? `${last.direction === 'out' ? '↩ ' : ''}${last.text}` : '';
    const channel = ticket.channels[ticket.channels.length - 1] ?? 'line';
    fillChannel(row.querySelector('.channel'), channel, t);
    const status = row.querySelector('.row-status');
    status.textContent = t(`status.${ticket.status}`);
    status.className = `label row-status status-${ticket.status}`;
    const priority = row.querySelector('.row-priority');
    priority.hidden = ticket.priority === 'normal' || ticket.priority === 'low';
    priority.textContent = t(`priority.${ticket.priority}`);
    priority.className = `label row-priority priority-${ticket.priority}`;
    const assignee = row.querySelector('.row-assignee');
    assignee.textContent = ticket.agentId && ticket.agentId === store.me?.id ? t('list.you') : (ticket.assignee ?? t('list.unassigned'));
    const tags = row.querySelector('.row-tags');
    tags.replaceChildren(...(ticket.tags ?? []).map((tag) => el('span', { class: 'tag', text: `#${tag}` })));
  }
}
customElements.define('ticket-list', TicketList);
