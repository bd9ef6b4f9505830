// Automation › Webhooks: the outgoing webhooks (a URL and the events it gets; its secret shown
// once, when made) and each one's latest deliveries with their state and last error; any delivery
// can be sent again (a copy, queued after the webhook's others).
import { el } from '../../dom.js';
import { formatTime, t } from '../../i18n.js';
import { copyButton, dataTable, field, statusLine } from '../ui.js';
import { automationApi as api } from './api.js';

const EVENTS = ['ticket.created', 'ticket.updated', 'message.created'];

class AutomationWebhooks extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.load();
  }

  async load() {
    try {
      this.webhooks = await api.webhooks();
    } catch (error) {
      this.replaceChildren(el('p', { class: 'form-error', text: t('console.failed', { message: error.message }), attrs: { role: 'alert' } }));
      return;
    }
    this.render();
  }

  relabel() { if (this.webhooks) this.render(); }

  render() {
    const url = el('input', { attrs: { type: 'url', required: true, spellcheck: 'false', placeholder: 'https://crm.example.com/hooks/bridge' } });
    const boxes = EVENTS.map((event) => { const box = el('input', { attrs: { type: 'checkbox' } }); box.checked = true; return [event, box]; });
    const error = el('p', { class: 'form-error', attrs: { role: 'alert' } });
    const form = el('form', { class: 'card', attrs: { 'aria-labelledby': 'webhook-add-title', novalidate: true } },
      el('h3', { text: t('automation.webhooks.add'), attrs: { id: 'webhook-add-title' } }),
      field(t('automation.webhooks.url'), url, t('automation.webhooks.url.hint')),
      el('fieldset', { class: 'channels' }, el('legend', { text: t('automation.webhooks.events') }),
        boxes.map(([event, box]) => el('label', { class: 'check' }, box, el('span', { text: event })))),
      error,
      el('button', { class: 'primary', text: t('automation.webhooks.save'), attrs: { type: 'submit' } }));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      this.status.clear();
      const chosen = boxes.filter(([, box]) => box.checked).map(([name]) => name);
      try {
        const made = await api.addWebhook({ url: url.value.trim(), events: chosen.length === EVENTS.length ? ['*'] : chosen });
        this.webhooks = await api.webhooks();
        this.secret = made;
        this.render();
        this.status.ok(t('automation.webhooks.added'));
      } catch (failure) {
        error.textContent = t('console.failed', { message: failure.message });
      }
    });
    this.replaceChildren(...[
      this.status,
      this.secret ? el('div', { class: 'card secret', attrs: { role: 'note' } },
        el('p', { text: t('automation.webhooks.secret', { url: this.secret.url }) }),
        el('code', { class: 'mono', text: this.secret.secret }), copyButton(this.secret.secret)) : null,
      dataTable({ caption: t('automation.webhooks'), rows: this.webhooks, empty: t('automation.webhooks.none'), columns: [
        { label: t('automation.webhooks.url'), value: (w) => w.url },
        { label: t('automation.webhooks.events'), value: (w) => w.events.join(', ') },
        { label: t('automation.actionsColumn'), value: (w) => el('span', { class: 'row-buttons' },
          el('button', { text: t('automation.webhooks.deliveries'), attrs: { type: 'button', 'aria-label': t('automation.webhooks.deliveriesOf', { url: w.url }) },
            on: { click: () => this.showDeliveries(w) } }),
          el('button', { text: t('automation.delete'), attrs: { type: 'button', 'aria-label': t('automation.deleteOf', { name: w.url }) },
            on: { click: () => this.remove(w) } })) },
      ] }),
      this.deliveriesPart ?? null,
      form,
    ].filter(Boolean));
  }

  async remove(webhook) {
    if (!confirm(t('automation.webhooks.confirmDelete', { url: webhook.url }))) return;
    this.status.clear();
    try {
      await api.deleteWebhook(webhook.id);
      this.webhooks = await api.webhooks();
      this.deliveriesPart = null;
      this.render();
      this.status.ok(t('automation.deleted', { name: webhook.url }));
    } catch (error) {
      this.status.fail(error);
    }
  }

  async redeliver(webhook, delivery) {
    try {
      await api.redeliver(webhook.id, delivery.id);
      await this.showDeliveries(webhook);
      this.status.ok(t('automation.webhooks.redelivered', { event: delivery.event }));
    } catch (error) {
      this.status.fail(error);
    }
  }

  async showDeliveries(webhook) {
    this.status.clear();
    try {
      const deliveries = await api.deliveries(webhook.id);
      const kind = { delivered: 'ok', failed: 'bad', pending: 'warn' };
      this.deliveriesPart = el('section', { attrs: { 'aria-labelledby': 'deliveries-title' } },
        el('h3', { text: t('automation.webhooks.deliveriesOf', { url: webhook.url }), attrs: { id: 'deliveries-title' } }),
        el('div', { class: 'table-scroll' }, dataTable({ caption: t('automation.webhooks.latest'), rows: deliveries, empty: t('automation.webhooks.noDeliveries'), columns: [
          { label: t('automation.webhooks.event'), value: (d) => d.event },
          { label: t('automation.webhooks.state'), value: (d) => el('span', { class: `label ${kind[d.status] ?? ''}`, text: t(`automation.webhooks.${d.status}`) }) },
          { label: t('automation.webhooks.attempts'), value: (d) => d.attempts, numeric: true },
          { label: t('automation.webhooks.time'), value: (d) => formatTime(d.deliveredAt ?? d.createdAt) },
          { label: t('automation.webhooks.error'), value: (d) => d.lastError ?? '' },
          { label: t('automation.actionsColumn'), value: (d) => el('button', { text: t('automation.webhooks.redeliver'),
            attrs: { type: 'button', 'aria-label': t('automation.webhooks.redeliverOf', { id: d.id, event: d.event }) },
            on: { click: () => this.redeliver(webhook, d) } }) },
        ] })));
      this.render();
    } catch (error) {
      this.status.fail(error);
    }
  }
}
customElements.define('automation-webhooks', AutomationWebhooks);
