// The Campaigns section: the list of campaigns (#/campaigns), a new one built with its audience,
// content and schedule and previewed before it goes (#/campaigns/new), and one campaign's live
// progress and report (#/campaigns/<id>), and the e-mail opt-out list (#/campaigns/opt-outs). All
// through the public API.
import { el } from '../../dom.js';
import { formatFullTime, t, useCatalogue } from '../../i18n.js';
import { dataTable, pageHead, statusLine } from '../ui.js';
import { campaignsApi } from './api.js';
import { settled, statusClass } from './states.js';
import './form.js';
import './detail.js';
import './opt-outs.js';

await useCatalogue((code) => import(`./i18n/${code}.js`).then((m) => m.default));

class CampaignsSection extends HTMLElement {
  set path(value) {
    this._path = value;
    if (this.isConnected) this.render();
  }

  get path() { return this._path ?? ''; }

  connectedCallback() { this.render(); }

  relabel() { this.render(); }

  go(path) { this.dispatchEvent(new CustomEvent('navigate', { bubbles: true, detail: { path } })); }

  render() {
    if (this.path === 'new') {
      const form = this.querySelector('campaign-form') ?? document.createElement('campaign-form');
      form.onCreated = (campaign) => this.go(String(campaign.id));
      if (!form.isConnected) this.replaceChildren(form);
      else form.relabel();
      return;
    }
    if (this.path === 'opt-outs') {
      const list = this.querySelector('email-opt-outs');
      if (list) list.relabel();
      else this.replaceChildren(document.createElement('email-opt-outs'));
      return;
    }
    if (/^\d+$/.test(this.path)) {
      let detail = this.querySelector('campaign-detail');
      if (!detail || detail.campaignId !== this.path) {
        detail = document.createElement('campaign-detail');
        detail.campaignId = this.path;
        this.replaceChildren(detail);
      } else detail.relabel();
      return;
    }
    this.renderList();
  }

  async renderList() {
    const status = statusLine();
    const newButton = el('button', { class: 'primary', text: t('campaigns.new'), attrs: { type: 'button' }, on: { click: () => this.go('new') } });
    const optOuts = el('a', { class: 'button', text: t('campaigns.optOuts.title'), attrs: { href: '#/campaigns/opt-outs' } });
    this.replaceChildren(pageHead(t('campaigns.title'), optOuts, newButton), status);
    let items;
    try {
      items = await campaignsApi.list();
    } catch (error) {
      status.fail(error);
      return;
    }
    if (this.path !== '') return;
    this.append(dataTable({
      caption: t('campaigns.list'),
      empty: t('campaigns.none'),
      rows: items,
      columns: [
        { label: t('campaigns.name'), value: (c) => el('a', { text: c.name, attrs: { href: `#/campaigns/${c.id}` } }) },
        { label: t('campaigns.status'), value: (c) => el('span', { class: `label ${statusClass(c.status)}`, text: t(`campaigns.state.${c.status}`) }) },
        { label: t('campaigns.progress'), numeric: true, value: (c) => `${settled(c)} / ${c.total}` },
        { label: t('campaigns.when'), value: (c) => formatFullTime(c.startedAt ?? c.scheduledAt ?? c.createdAt) },
      ],
    }));
  }
}

customElements.define('console-campaigns', CampaignsSection);
