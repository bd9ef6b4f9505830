// Data: how long conversations are kept (a run-once duty clears older messages and deletes older
// attachments with their files), one customer's data exported as a JSON file or erased with
// everything stored about them (GDPR, Japan's APPI), and the audit log of who changed what.
import { el } from '../../dom.js';
import { formatFullTime, t, useCatalogue } from '../../i18n.js';
import { csvButton, dataTable, field, pageHead, statusLine } from '../ui.js';
import { dataApi } from './api.js';

await useCatalogue((code) => import(`./i18n/${code}.js`).then((m) => m.default));

/** The audit log's columns, shared by the table and its CSV (the CSV keeps the raw values). */
const AUDIT_CSV_HEAD = ['id', 'at', 'actorName', 'actorRole', 'method', 'route', 'targetId', 'summary', 'status'];

class DataPage extends HTMLElement {
  connectedCallback() {
    this.retention = null;
    this.contact = null;
    this.audit = [];
    this.auditDone = false;
    this.retentionStatus = statusLine();
    this.contactStatus = statusLine();
    this.auditStatus = statusLine();
    this.render();
    this.load();
  }

  relabel() { this.render(); }

  async load() {
    try {
      this.retention = await dataApi.retention();
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
    this.render();
  }

  async moreAudit() {
    try {
      const page = await dataApi.auditLog(this.audit.at(-1)?.id);
      this.audit = [...this.audit, ...page.items];
      this.auditDone = page.items.length < 100;
    } catch (error) {
      this.auditStatus.fail(error);
    }
    this.render();
  }

  render() {
    const focused = document.activeElement?.id;
    this.replaceChildren(pageHead(t('data.title')), this.retentionPart(), this.contactPart(), this.auditPart());
    if (focused) this.querySelector(`#${CSS.escape(focused)}`)?.focus();
  }

  retentionPart() {
    const days = (id, value) => el('input', { attrs: { id, type: 'number', min: 1, max: 36500, step: 1, inputmode: 'numeric', placeholder: t('data.forever') } });
    const messages = days('retention-messages');
    const attachments = days('retention-attachments');
    messages.value = this.retention?.messagesDays ?? '';
    attachments.value = this.retention?.attachmentsDays ?? '';
    const form = el('form', { class: 'data-form', on: { submit: async (event) => {
      event.preventDefault();
      const read = (input) => (input.value.trim() === '' ? null : Number(input.value));
      try {
        this.retention = await dataApi.setRetention({ messagesDays: read(messages), attachmentsDays: read(attachments) });
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
    return el('section', { class: 'data-part', attrs: { 'aria-labelledby': 'data-retention' } },
      el('h2', { text: t('data.retention'), attrs: { id: 'data-retention' } }), el('p', { class: 'hint', text: t('data.retention.intro') }), form);
  }

  contactPart() {
    const input = el('input', { attrs: { id: 'data-contact-id', type: 'number', min: 1, step: 1, inputmode: 'numeric' } });
    input.value = this.contactId ?? '';
    const lookUp = el('form', { class: 'data-form inline', on: { submit: async (event) => {
      event.preventDefault();
      this.contactId = input.value.trim();
      this.contact = null;
      this.confirming = false;
      try {
        this.contact = await dataApi.contact(this.contactId);
        this.contactStatus.clear();
      } catch (error) {
        this.contactStatus.fail(error);
      }
      this.render();
    } } },
    field(t('data.contact.id'), input, t('data.contact.id.hint')),
    el('div', { class: 'form-actions' }, el('button', { text: t('data.contact.find'), attrs: { type: 'submit' } })));
    const parts = [el('h2', { text: t('data.contact'), attrs: { id: 'data-contact' } }), el('p', { class: 'hint', text: t('data.contact.intro') }), lookUp];
    const c = this.contact;
    if (c) {
      const identities = c.identities.map((i) => `${t(`channel.${i.channel}`)} · ${i.displayName ?? i.platformUserId}`);
      parts.push(el('div', { class: 'data-contact-card', attrs: { 'aria-label': t('data.contact.found') } },
        el('h3', { text: c.displayName || t('data.contact.unnamed', { id: c.id }) }),
        el('p', { text: t('data.contact.identities', { list: identities.join(', ') || '—' }) }),
        el('div', { class: 'form-actions' },
          el('a', { class: 'button', text: t('data.contact.export'), attrs: { href: dataApi.exportURL(c.id), download: `contact-${c.id}.json` } }),
          el('button', { class: 'danger', text: t('data.contact.erase'), attrs: { type: 'button' }, on: { click: () => { this.confirming = true; this.render(); } } })),
        this.confirming ? this.confirmErase(c) : null));
    }
    parts.push(this.contactStatus);
    return el('section', { class: 'data-part', attrs: { 'aria-labelledby': 'data-contact' } }, ...parts);
  }

  confirmErase(contact) {
    const understood = el('input', { attrs: { id: 'data-erase-understood', type: 'checkbox' } });
    const go = el('button', { class: 'danger', text: t('data.erase.confirm'), attrs: { type: 'button', disabled: true }, on: { click: async () => {
      try {
        const outcome = await dataApi.erase(contact.id);
        this.contact = null;
        this.confirming = false;
        this.contactId = '';
        this.contactStatus.ok(t('data.erase.done', { id: outcome.contactId, tickets: outcome.tickets, messages: outcome.messages, attachments: outcome.attachments }));
        await this.reloadAudit();
      } catch (error) {
        this.contactStatus.fail(error);
        this.render();
      }
    } } });
    understood.addEventListener('change', () => { go.disabled = !understood.checked; });
    return el('div', { class: 'data-confirm', attrs: { role: 'group', 'aria-label': t('data.erase.group') } },
      el('p', { text: t('data.erase.warning', { name: contact.displayName || `#${contact.id}` }) }),
      el('div', { class: 'check' }, understood, el('label', { text: t('data.erase.understood'), attrs: { for: 'data-erase-understood' } })),
      el('div', { class: 'form-actions' }, go,
        el('button', { text: t('data.erase.cancel'), attrs: { type: 'button' }, on: { click: () => { this.confirming = false; this.render(); } } })));
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
        { label: t('data.audit.at'), value: (e) => formatFullTime(e.at) },
        { label: t('data.audit.who'), value: (e) => `${e.actorName} (${e.actorRole})` },
        { label: t('data.audit.action'), value: (e) => `${e.method} ${e.route}` },
        { label: t('data.audit.target'), value: (e) => e.targetId ?? '' },
        { label: t('data.audit.summary'), value: (e) => e.summary },
      ],
      rows,
    });
    const more = this.auditDone ? null : el('button', { text: t('data.audit.more'), attrs: { type: 'button' }, on: { click: () => this.moreAudit() } });
    return el('section', { class: 'data-part', attrs: { 'aria-labelledby': 'data-audit' } },
      head, el('p', { class: 'hint', text: t('data.audit.intro') }), el('div', { class: 'table-scroll' }, table), more, this.auditStatus);
  }
}

customElements.define('console-data', DataPage);
