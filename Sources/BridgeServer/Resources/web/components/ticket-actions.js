// The open ticket's actions: claim, pending, resolve (with a resolution reason), transfer (agent
// or department, with a note), priority, tags, and under "More": spam / restore, merge, split,
// transcript and the customer's history link. Only what `ticketActions` (access.js) says the API
// would allow the signed-in agent is offered.
import { api } from '../api.js';
import { el } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { ticketActions } from '../access.js';
import { field, openDialog, select } from './dialog.js';

export const RESOLUTION_REASONS = ['solved by chat', 'solved by phone', 'duplicate', 'spam', 'test', 'other'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

export class TicketActions extends HTMLElement {
  connectedCallback() {
    this.setAttribute('role', 'toolbar');
  }

  /** Renders the actions for a ticket (null: none). */
  render(store, ticket) {
    this.store = store;
    this.ticket = ticket;
    this.setAttribute('aria-label', t('action.toolbar'));
    if (!ticket) { this.replaceChildren(); return; }
    const can = ticketActions(store.me, ticket);
    const button = (name, label, run, key) => (can[name] ? el('button', {
      text: t(label), attrs: { type: 'button', 'data-action': name, 'aria-keyshortcuts': key ?? false }, on: { click: run },
    }) : null);
    const priority = can.priority ? select(PRIORITIES.map((p) => [p, t(`priority.${p}`)]), ticket.priority ?? 'normal') : null;
    if (priority) {
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
  }

  moreMenu(can) {
    const items = [
      ['spam', 'action.spam', () => this.run(() => this.store.spam(this.ticket.id))],
      ['restore', 'action.restore', () => this.run(() => this.store.restore(this.ticket.id))],
      ['merge', 'action.merge', () => this.merge()],
      ['split', 'action.split', () => this.split()],
      ['transcript', 'action.transcript', () => window.open(api.transcriptURL(this.ticket.id), '_blank', 'noopener')],
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
    toggle.addEventListener('click', () => {
      menu.hidden = !menu.hidden;
      toggle.setAttribute('aria-expanded', String(!menu.hidden));
      if (!menu.hidden) menu.firstElementChild.focus();
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
    return box;
  }

  async run(call) {
    try {
      await call();
    } catch (error) {
      if (error.status !== 401) this.dispatchEvent(new CustomEvent('action-failed', { bubbles: true, detail: error }));
    }
  }

  /** e: resolve, with the reason the API keeps (ResolutionReason). */
  resolve() {
    const ticket = this.ticket;
    if (!ticketActions(this.store.me, ticket).resolve) return null;
    const reason = select([['', t('resolve.noReason')], ...RESOLUTION_REASONS.map((r) => [r, t(`reason.${r}`)])], '');
    return openDialog({
      title: t('resolve.title', { id: ticket.id }),
      fields: [field(t('resolve.reason'), reason)],
      submitLabel: t('action.resolve'),
      submit: () => this.store.resolve(ticket.id, reason.value || undefined),
    });
  }

  transfer() {
    const ticket = this.ticket;
    const store = this.store;
    const departments = store.departments.map((d) => [`d${d.id}`, d.name]);
    const agents = [...store.agents.values()].filter((a) => a.active !== false && a.id !== store.me?.id && typeof a.id === 'number')
      .map((a) => [`a${a.id}`, `${a.name}${a.availability && a.availability !== 'online' ? ` (${t(`availability.${a.availability}`)})` : ''}`]);
    const target = el('select', {},
      departments.length ? el('optgroup', { attrs: { label: t('transfer.departments') } }, departments.map(([v, l]) => el('option', { text: l, attrs: { value: v } }))) : null,
      agents.length ? el('optgroup', { attrs: { label: t('transfer.agents') } }, agents.map(([v, l]) => el('option', { text: l, attrs: { value: v } }))) : null);
    const note = el('textarea', { attrs: { rows: 3, maxlength: 4096 } });
    return openDialog({
      title: t('transfer.title', { id: ticket.id }),
      fields: [field(t('transfer.to'), target), field(t('transfer.note'), note)],
      submitLabel: t('action.transfer'),
      submit: () => {
        const value = target.value;
        const body = value.startsWith('d') ? { departmentId: Number(value.slice(1)) } : { agentId: Number(value.slice(1)) };
        if (note.value.trim()) body.note = note.value;
        return store.transfer(ticket.id, body);
      },
    });
  }

  tags() {
    const ticket = this.ticket;
    const store = this.store;
    const current = new Set(ticket.tags ?? []);
    const boxes = [...current].map((tag) => {
      const box = el('input', { attrs: { type: 'checkbox', value: tag, checked: true } });
      return el('label', { class: 'check' }, box, el('span', { text: `#${tag}` }));
    });
    const add = el('input', { attrs: { type: 'text', placeholder: t('tags.placeholder'), autocomplete: 'off' } });
    return openDialog({
      title: t('tags.title', { id: ticket.id }),
      fields: [boxes.length ? el('fieldset', { class: 'checks' }, el('legend', { text: t('tags.current') }), boxes) : null,
        field(t('tags.add'), add)].filter(Boolean),
      submitLabel: t('tags.save'),
      submit: async () => {
        const remove = boxes.map((b) => b.querySelector('input')).filter((b) => !b.checked).map((b) => b.value);
        const added = add.value.split(/[,\s]+/).map((s) => s.replace(/^#/, '').trim().toLowerCase()).filter((s) => s && !current.has(s));
        if (remove.length) await store.removeTags(ticket.id, remove);
        if (added.length) await store.addTags(ticket.id, added);
      },
    });
  }

  /** Merge: the contact's other open tickets into this one (the API refuses other contacts'). */
  async merge() {
    const ticket = this.ticket;
    const store = this.store;
    let others = [];
    try {
      const page = await api.tickets({ contact: String(ticket.contact.id), limit: 50 });
      others = page.items.filter((x) => x.id !== ticket.id && x.contact.id === ticket.contact.id && !['closed', 'spam'].includes(x.status));
    } catch { /* shown as none */ }
    const boxes = others.map((x) => el('label', { class: 'check' },
      el('input', { attrs: { type: 'checkbox', value: x.id } }),
      el('span', { text: `#${x.id} · ${t(`status.${x.status}`)} · ${x.lastMessage?.text ?? ''}` })));
    return openDialog({
      title: t('merge.title', { id: ticket.id }),
      fields: boxes.length ? [el('fieldset', { class: 'checks' }, el('legend', { text: t('merge.choose') }), boxes)] : [el('p', { text: t('merge.none') })],
      submitLabel: t('action.merge'),
      submit: () => {
        const ids = boxes.map((b) => b.querySelector('input')).filter((b) => b.checked).map((b) => Number(b.value));
        if (!ids.length) throw new Error(t('merge.pick'));
        return store.merge(ticket.id, ids);
      },
    });
  }

  /** Split: chosen messages to a new ticket of the same contact. */
  split() {
    const ticket = this.ticket;
    const store = this.store;
    const messages = store.conversations.get(ticket.id)?.messages ?? [];
    const boxes = messages.map((m) => el('label', { class: 'check' },
      el('input', { attrs: { type: 'checkbox', value: m.id } }),
      el('span', { text: `${formatTime(m.createdAt)} · ${m.direction === 'in' ? '→' : '←'} ${m.text}` })));
    return openDialog({
      title: t('split.title', { id: ticket.id }),
      fields: [el('fieldset', { class: 'checks scroll' }, el('legend', { text: t('split.choose') }), boxes)],
      submitLabel: t('action.split'),
      submit: () => {
        const ids = boxes.map((b) => b.querySelector('input')).filter((b) => b.checked).map((b) => Number(b.value));
        if (!ids.length) throw new Error(t('split.pick'));
        return store.split(ticket.id, ids);
      },
    });
  }

  /** A signed link that shows the customer their own history; shown to copy. */
  async historyLink() {
    const ticket = this.ticket;
    let link;
    try { link = await api.historyLink(ticket.contact.id); } catch (error) { this.run(() => Promise.reject(error)); return; }
    const url = new URL(link.url, location.origin).href;
    const input = el('input', { attrs: { type: 'text', readonly: true, value: url } });
    await openDialog({
      title: t('historyLink.title'),
      fields: [field(t('historyLink.label', { until: formatTime(link.expiresAt) }), input)],
      submitLabel: t('historyLink.copy'),
      submit: async () => { input.select(); await navigator.clipboard?.writeText(url).catch(() => {}); },
    });
  }
}
customElements.define('ticket-actions', TicketActions);
