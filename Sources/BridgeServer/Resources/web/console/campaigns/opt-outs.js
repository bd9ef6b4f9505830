// The e-mail opt-out list (#/campaigns/opt-outs): addresses that get no campaign e-mail, because
// they used a mail's one-click unsubscribe link or an owner or admin put them here. Campaigns and
// their previews skip them ("unsubscribed"). Add and remove through /api/v1/email-opt-outs.
import { el } from '../../dom.js';
import { formatFullTime, t } from '../../i18n.js';
import { dataTable, field, pageHead, statusLine } from '../ui.js';
import { campaignsApi } from './api.js';

class EmailOptOuts extends HTMLElement {
  connectedCallback() { this.render(); }

  relabel() { this.render(); }

  async render() {
    this.status ??= statusLine();
    const address = el('input', { attrs: { type: 'email', name: 'address', required: true, autocomplete: 'off', maxlength: 254 } });
    const form = el('form', { class: 'opt-out-add', on: { submit: (event) => { event.preventDefault(); this.add(address.value); } } },
      field(t('campaigns.optOuts.address'), address),
      el('button', { class: 'primary', text: t('campaigns.optOuts.add'), attrs: { type: 'submit' } }));
    const back = el('a', { text: t('campaigns.optOuts.back'), attrs: { href: '#/campaigns' } });
    this.table = el('div', { class: 'table-scroll' });
    this.replaceChildren(pageHead(t('campaigns.optOuts.title'), back), el('p', { class: 'console-note', text: t('campaigns.optOuts.intro') }),
      form, this.status, this.table);
    await this.load();
  }

  async load() {
    let items;
    try {
      items = await campaignsApi.optOuts();
    } catch (error) {
      this.status.fail(error);
      return;
    }
    this.table.replaceChildren(dataTable({
      caption: t('campaigns.optOuts.list'),
      empty: t('campaigns.optOuts.none'),
      rows: items,
      columns: [
        { label: t('campaigns.optOuts.address'), value: (o) => o.address },
        { label: t('campaigns.optOuts.source'), value: (o) => t(`campaigns.optOuts.source.${o.source}`) },
        { label: t('campaigns.optOuts.added'), value: (o) => formatFullTime(o.createdAt) },
        { label: t('campaigns.optOuts.actions'), value: (o) => el('button', {
          text: t('campaigns.optOuts.remove'),
          attrs: { type: 'button', 'aria-label': t('campaigns.optOuts.removeOne', { address: o.address }) },
          on: { click: () => this.remove(o.address) },
        }) },
      ],
    }));
  }

  async add(address) {
    try {
      const entry = await campaignsApi.addOptOut(address.trim());
      this.status.ok(t('campaigns.optOuts.added.one', { address: entry.address }));
      this.querySelector('input[name="address"]').value = '';
    } catch (error) {
      this.status.fail(error);
      return;
    }
    await this.load();
  }

  async remove(address) {
    try {
      await campaignsApi.removeOptOut(address);
      this.status.ok(t('campaigns.optOuts.removed', { address }));
    } catch (error) {
      this.status.fail(error);
      return;
    }
    await this.load();
  }
}

customElements.define('email-opt-outs', EmailOptOuts);
