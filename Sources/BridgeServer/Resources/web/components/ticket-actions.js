// The open ticket's actions: claim, pending, resolve (with a resolution reason), transfer (agent
// or department, with a note), priority, tags, and under "More": spam / restore, merge, split,
// transcript and the customer's history link. Only what `ticketActions` (access.js) says the API
// would allow the signed-in agent is offered.
import { api } from '../api.js';
import { el } from '../dom.js';
import { t } from '../i18n.js';
import { ticketActions } from '../access.js';

const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

/** The transcript, its times in the agent's own time zone (the API's `tz`). */
function transcriptURL(ticketId) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone ? `${api.transcriptURL(ticketId)}?tz=${encodeURIComponent(zone)}` : api.transcriptURL(ticketId);
}

export class TicketActions extends HTMLElement {
  connectedCallback() {
    this.setAttribute('role', 'toolbar');
  }

  /**
   * Renders the actions for a ticket (null: none). It runs again on every live change of the
   * ticket or its contact: for the same ticket, an open "More" menu stays open and the focused
   * action keeps the focus, so an agent's click or key is not lost to a customer's message.
   */
  render(store, ticket) {
    const same = ticket && this.ticket?.id === ticket.id;
    const wasOpen = same && Boolean(this.querySelector('.more-box .menu:not([hidden])'));
    const focused = same && this.contains(document.activeElement) ? document.activeElement.dataset?.action ?? (document.activeElement.classList.contains('more-toggle') ? 'more' : null) : null;
    this.store = store;
    this.ticket = ticket;
    this.setAttribute('aria-label', t('action.toolbar'));
    if (!ticket) { this.replaceChildren(); return; }
    const can = ticketActions(store.me, ticket, store.contacts.get(ticket.contact.id));
    const button = (name, label, run, key) => (can[name] ? el('button', {
      text: t(label), attrs: { type: 'button', 'data-action': name, 'aria-keyshortcuts': key ?? false }, on: { click: run },
    }) : null);
    const priority = can.priority ? el('select', {}, PRIORITIES.map((p) => el('option', { text: t(`priority.${p}`), attrs: { value: p } }))) : null;
    if (priority) {
      priority.value = ticket.priority ?? 'normal';
      priority.classList.add('priority-select');
      priority.setAttribute('aria-label', t('action.priority'));
      priority.addEventListener('change', () => this.run(() => store.setPriority(ticket.id, priority.value)));
    }
    const more = this.moreMenu(can);
    this.replaceChildren(...[
      button('claim', 'action.claim', () => this.run(() => store.act(ticket.id, 'claim')), 'a'),
      button('pending', 'action.pending', () => this.run(() => store.act(ticket.id, 'pending'))),
      button('resolve', 'action.resolve', () => this.resolve(), 'e'),
      button('reopen', 'action.reopen', () => this.run(() => store.act(ticket.id, 'open'))),
      button('transfer', 'action.transfer', () => this.transfer()),
      button('tags', 'action.tags', () => this.tags()),
      priority,
      more,
    ].filter(Boolean));
    if (wasOpen && more) more.open();
    if (focused === 'more') this.querySelector('.more-toggle')?.focus();
    else if (focused) this.querySelector(`[data-action="${CSS.escape(focused)}"]`)?.focus();
  }

  moreMenu(can) {
    const items = [
      ['spam', 'action.spam', () => this.run(() => this.store.spam(this.ticket.id))],
      ['restore', 'action.restore', () => this.run(() => this.store.restore(this.ticket.id))],
      ['merge', 'action.merge', () => this.merge()],
      ['split', 'action.split', () => this.split()],
      ['transcript', 'action.transcript', () => window.open(transcriptURL(this.ticket.id), '_blank', 'noopener')],
      ['historyLink', 'action.historyLink', () => this.historyLink()],
    ].filter(([name]) => can[name]);
    if (!items.length) return null;
    const toggle = el('button', { class: 'more-toggle', text: t('action.more'), attrs: { type: 'button', 'aria-haspopup': 'menu', 'aria-expanded': 'false' } });
    const menu = el('div', { class: 'menu', attrs: { role: 'menu' } }, items.map(([name, label, run]) => el('button', {
      text: t(label), attrs: { type: 'button', role: 'menuitem', 'data-action': name, tabindex: '-1' },
      on: { click: () => { close(); run(); } },
    })));
    menu.hidden = true;
    const close = () => { menu.hidden = true; toggle.setAttribute('aria-expanded', 'false'); };
    const open = () => { menu.hidden = false; toggle.setAttribute('aria-expanded', 'true'); };
    toggle.addEventListener('click', () => {
      if (menu.hidden) { open(); menu.firstElementChild.focus(); } else close();
    });
    menu.addEventListener('keydown', (event) => {
      const buttons = [...menu.children];
      const at = buttons.indexOf(document.activeElement);
      if (event.key === 'ArrowDown') { event.preventDefault(); buttons[(at + 1) % buttons.length].focus(); }
      if (event.key === 'ArrowUp') { event.preventDefault(); buttons[(at - 1 + buttons.length) % buttons.length].focus(); }
      if (event.key === 'Escape') { event.preventDefault(); event.stopPropagation(); close(); toggle.focus(); }
    });
    const box = el('div', { class: 'more-box' }, toggle, menu);
    box.addEventListener('focusout', (event) => { if (!box.contains(event.relatedTarget)) close(); });
    box.open = open;
    return box;
  }

  async run(call) {
    try {
      await call();
    } catch (error) {
      if (error.status !== 401) this.dispatchEvent(new CustomEvent('action-failed', { bubbles: true, detail: error }));
    }
  }

  /** The dialogs load on first use (action-dialogs.js). */
  async dialog(name) {
    const dialogs = await import('./action-dialogs.js');
    return dialogs[name](this.store, this.ticket);
  }

  /** e: resolve, with the reason the API keeps (ResolutionReason). */
  resolve() {
    if (!ticketActions(this.store.me, this.ticket, this.store.contacts.get(this.ticket.contact.id)).resolve) return null;
    return this.dialog('resolve');
  }

  transfer() { return this.dialog('transfer'); }
  tags() { return this.dialog('tags'); }
  merge() { return this.dialog('merge'); }
  split() { return this.dialog('split'); }
  historyLink() { return this.dialog('historyLink'); }
}
customElements.define('ticket-actions', TicketActions);
