// Data: how long conversations are kept (a run-once duty clears older messages and deletes older
// attachments with their files), one customer's data exported as a JSON file or erased with
// everything stored about them (GDPR, Japan's APPI), and the audit log of who changed what.
import { el } from '../../dom.js';
import { currentLanguage, t, useCatalogue } from '../../i18n.js';
import { csvButton, dataTable, field, pageHead, statusLine } from '../ui.js';
import { dataApi } from './api.js';

await useCatalogue((code) => import(`./i18n/${code}.js`).then((m) => m.default));

/** A log time: date and time to the second, in the reader's language and time zone. */
function formatLogTime(iso) {
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

/** The audit log's columns, shared by the table and its CSV (the CSV keeps the raw values). */
const AUDIT_CSV_HEAD = ['id', 'at', 'actorName', 'actorRole', 'method', 'route', 'targetId', 'summary', 'status'];

class DataPage extends HTMLElement {
  connectedCallback() {
    this.retention = undefined;  // undefined while loading
    this.contact = null;
    this.audit = [];
    this.auditDone = false;
    this.retentionStatus = statusLine();
    this.contactStatus = statusLine();
    this.auditStatus = statusLine();
    // Each part re-renders on its own, so loading one never replaces what is being typed in another.
    this.head = el('div');
    this.parts = {
      retention: el('section', { class: 'data-part', attrs: { 'aria-labelledby': 'data-retention' } }),
      contact: el('section', { class: 'data-part', attrs: { 'aria-labelledby': 'data-contact' } }),
      audit: el('section', { class: 'data-part', attrs: { 'aria-labelledby': 'data-audit' } }),
    };
    this.replaceChildren(this.head, this.parts.retention, this.parts.contact, this.parts.audit);
    this.render();
    this.load();
  }

  relabel() { this.render(); }

  async load() {
    try {
      this.retention = await dataApi.retention();
      this.renderPart('retention');
    } catch (error) {
      this.retentionStatus.fail(error);
    }
    await this.reloadAudit();
  }

  async reloadAudit() {
    try {
      const page = await dataApi.auditLog();
      this.audit = page.items;
      this.auditDone = page.items.length < 100;
      this.auditStatus.clear();
    } catch (error) {
      this.auditStatus.fail(error);
    }
    this.renderPart('audit');
  }

  async moreAudit() {
    try {
      const page = await dataApi.auditLog(this.audit.at(-1)?.id);
      this.audit = [...this.audit, ...page.items];
      this.auditDone = page.items.length < 100;
    } catch (error) {
      this.auditStatus.fail(error);
    }
    this.renderPart('audit');
  }

  render() {
    this.head.replaceChildren(pageHead(t('data.title')));
    for (const name of Object.keys(this.parts)) this.renderPart(name);
  }

  /** Rebuilds one part, keeping the keyboard focus on the control that had it. */
  renderPart(name) {
    const part = this.parts[name];
    const focused = part.contains(document.activeElement) ? document.activeElement.id : null;
    part.replaceChildren(...this[`${name}Part`]().filter(Boolean));
    if (focused) part.querySelector(`#${CSS.escape(focused)}`)?.focus();
  }

  retentionPart() {
    if (this.retention === undefined) {
      return [el('h2', { text: t('data.retention'), attrs: { id: 'data-retention' } }), el('p', { class: 'console-note', text: t('console.loading') }), this.retentionStatus];
    }
    const days = (id) => el('input', { attrs: { id, type: 'number', min: 1, max: 36500, step: 1, inputmode: 'numeric', placeholder: t('data.forever') } });
    const messages = days('retention-messages');
    const attachments = days('retention-attachments');
    messages.value = this.retention?.messagesDays ?? '';
    attachments.value = this.retention?.attachmentsDays ?? '';
    const form = el('form', { class: 'data-form', on: { submit: async (event) => {
      event.preventDefault();
      const read = (input) => (input.value.trim() === '' ? null : Number(input.value));
      try {
        this.retention = await dataApi.setRetention({ messagesDays: read(messages), attachmentsDays: read(attachments) });
        this.renderPart('retention');
        this.retentionStatus.ok();
        await this.reloadAudit();
      } catch (error) {
        this.retentionStatus.fail(error);
      }
    } } },
    field(t('data.retention.messages'), messages, t('data.retention.messages.hint')),
    field(t('data.retention.attachments'), attachments, t('data.retention.attachments.hint')),
    el('div', { class: 'form-actions' }, el('button', { class: 'primary', text: t('data.retention.save'), attrs: { type: 'submit' } })),
    this.retentionStatus);
    return [el('h2', { text: t('data.retention'), attrs: { id: 'data-retention' } }), el('p', { class: 'hint', text: t('data.retention.intro') }), form];
  }

  contactPart() {
    const input = el('input', { attrs: { id: 'data-contact-search', type: 'search', maxlength: 200, autocomplete: 'off' } });
    input.value = this.contactQuery ?? '';
    const search = el('form', { class: 'data-form inline', attrs: { role: 'search', 'aria-label': t('data.contact.search') }, on: { submit: async (event) => {
      event.preventDefault();
      this.contactQuery = input.value.trim();
      this.contact = null;
      this.matches = null;
      this.confirming = false;
      if (!this.contactQuery) return;
      try {
        this.matches = await dataApi.findContacts(this.contactQuery);
        if (this.matches.length === 0 && /^\d+$/.test(this.contactQuery)) this.matches = [await dataApi.contact(this.contactQuery)];
        if (this.matches.length === 1) await this.choose(this.matches[0].id);
        this.contactStatus.clear();
      } catch (error) {
        this.contactStatus.fail(error);
      }
      this.renderPart('contact');
    } } },
    field(t('data.contact.query'), input, t('data.contact.query.hint')),
    el('div', { class: 'form-actions' }, el('button', { text: t('data.contact.find'), attrs: { type: 'submit' } })));
    const parts = [el('h2', { text: t('data.contact'), attrs: { id: 'data-contact' } }), el('p', { class: 'hint', text: t('data.contact.intro') }), search];
    if (this.matches && this.matches.length === 0) parts.push(el('p', { class: 'console-note', text: t('data.contact.none') }));
    if (this.matches && this.matches.length > 1 && !this.contact) {
      parts.push(el('ul', { class: 'data-matches', attrs: { 'aria-label': t('data.contact.matches') } }, this.matches.map((m) => el('li', {},
        el('button', { text: `${m.displayName || t('data.contact.unnamed', { id: m.id })} · #${m.id}`, attrs: { type: 'button' },
          on: { click: async () => {
            try {
              await this.choose(m.id);
            } catch (error) {
              this.contactStatus.fail(error);
            }
            this.renderPart('contact');
          } } })))));
    }
    const c = this.contact;
    if (c) {
      const identities = c.identities.map((i) => `${t(`channel.${i.channel}`)} · ${i.displayName ?? i.platformUserId}`);
      parts.push(el('div', { class: 'data-contact-card', attrs: { role: 'group', 'aria-label': t('data.contact.found') } },
        el('h3', { text: c.displayName || t('data.contact.unnamed', { id: c.id }) }),
        el('p', { text: t('data.contact.id.shown', { id: c.id }) }),
        el('p', { text: t('data.contact.identities', { list: identities.join(', ') || '—' }) }),
        el('div', { class: 'form-actions' },
          el('a', { class: 'button', text: t('data.contact.export'), attrs: { href: dataApi.exportURL(c.id), download: `contact-${c.id}.json` } }),
          el('button', { class: 'danger', text: t('data.contact.erase'), attrs: { type: 'button' }, on: { click: () => { this.confirming = true; this.renderPart('contact'); } } })),
        this.confirming ? this.confirmErase(c) : null));
    }
    parts.push(this.contactStatus);
    return parts;
  }

  /** Shows the contact with this id (its identities from GET /contacts/{id}). */
  async choose(contactId) {
    this.contact = await dataApi.contact(contactId);
    this.confirming = false;
  }

  confirmErase(contact) {
    const understood = el('input', { attrs: { id: 'data-erase-understood', type: 'checkbox' } });
    const go = el('button', { class: 'danger', text: t('data.erase.confirm'), attrs: { type: 'button', disabled: true }, on: { click: async () => {
      try {
        const outcome = await dataApi.erase(contact.id);
        this.contact = null;
        this.matches = null;
        this.confirming = false;
        this.contactQuery = '';
        this.renderPart('contact');
        this.contactStatus.ok(t('data.erase.done', { id: outcome.contactId, tickets: outcome.tickets, messages: outcome.messages, attachments: outcome.attachments }));
        await this.reloadAudit();
      } catch (error) {
        this.contactStatus.fail(error);
      }
    } } });
    understood.addEventListener('change', () => { go.disabled = !understood.checked; });
    return el('div', { class: 'data-confirm', attrs: { role: 'group', 'aria-label': t('data.erase.group') } },
      el('p', { text: t('data.erase.warning', { name: contact.displayName || `#${contact.id}` }) }),
      el('div', { class: 'check' }, understood, el('label', { text: t('data.erase.understood'), attrs: { for: 'data-erase-understood' } })),
      el('div', { class: 'form-actions' }, go,
        el('button', { text: t('data.erase.cancel'), attrs: { type: 'button' }, on: { click: () => { this.confirming = false; this.renderPart('contact'); } } })));
  }

  auditPart() {
    const rows = this.audit;
    const head = el('div', { class: 'part-head' }, el('h2', { text: t('data.audit'), attrs: { id: 'data-audit' } }),
      el('button', { text: t('data.audit.refresh'), attrs: { type: 'button' }, on: { click: () => this.reloadAudit() } }),
      csvButton('audit-log.csv', () => [AUDIT_CSV_HEAD, ...this.audit.map((e) => AUDIT_CSV_HEAD.map((key) => e[key] ?? ''))]));
    const table = dataTable({
      caption: t('data.audit'),
      empty: t('data.audit.empty'),
      columns: [
        { label: t('data.audit.at'), value: (e) => formatLogTime(e.at) },
        { label: t('data.audit.who'), value: (e) => `${e.actorName} (${e.actorRole})` },
        { label: t('data.audit.action'), value: (e) => `${e.method} ${e.route}` },
        { label: t('data.audit.target'), value: (e) => e.targetId ?? '' },
        { label: t('data.audit.summary'), value: (e) => e.summary },
      ],
      rows,
    });
    table.caption.classList.add('visually-hidden');  // the section's heading says it
    const more = this.auditDone ? null : el('button', { text: t('data.audit.more'), attrs: { type: 'button' }, on: { click: () => this.moreAudit() } });
    return [head, el('p', { class: 'hint', text: t('data.audit.intro') }), el('div', { class: 'table-scroll' }, table), more, this.auditStatus];
  }
}

customElements.define('console-data', DataPage);
