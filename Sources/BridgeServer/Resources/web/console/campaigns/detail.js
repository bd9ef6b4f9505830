// One campaign: a progress bar with sent / delivered / read / failed / skipped, the actions its
// status allows (start, pause, resume, cancel), and the report per channel with the reasons and a
// CSV of every recipient. Progress is polled (GET the campaign and its report once a second while
// it is not finished): recipients' sends are not events of the live log, only status changes are.
import { el } from '../../dom.js';
import { formatFullTime, formatNumber, t } from '../../i18n.js';
import { barChart } from '../charts.js';
import { csvButton, dataTable, pageHead, statusLine } from '../ui.js';
import { campaignsApi } from './api.js';
import { actionsFor, settled, statusClass } from './states.js';

const BAR = ['read', 'delivered', 'sent', 'failed', 'skipped', 'cancelled'];
const FINAL = ['completed', 'cancelled'];

class CampaignDetail extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.refresh();
  }

  disconnectedCallback() { clearTimeout(this.timer); }

  relabel() { if (this.campaign) this.render(); }

  async refresh() {
    clearTimeout(this.timer);
    try {
      const [campaign, report] = await Promise.all([campaignsApi.get(this.campaignId), campaignsApi.report(this.campaignId)]);
      this.campaign = campaign;
      this.report = report;
      this.render();
    } catch (error) {
      this.replaceChildren(pageHead(t('campaigns.title')), this.status);
      this.status.fail(error);
    }
    if (this.isConnected && !FINAL.includes(this.campaign?.status)) this.timer = setTimeout(() => this.refresh(), 1000);
  }

  async act(action) {
    try {
      this.campaign = await campaignsApi.act(this.campaignId, action);
      this.status.ok(t(`campaigns.did.${action}`));
    } catch (error) {
      this.status.fail(error);
    }
    this.refresh();
  }

  render() {
    const c = this.campaign;
    const actions = actionsFor(c.status).map((action) => el('button', {
      class: action === 'cancel' ? 'danger' : '', text: t(`campaigns.action.${action}`), attrs: { type: 'button' },
      on: { click: () => this.act(action) } }));
    const done = settled(c);
    const bar = el('div', { class: 'campaign-bar', attrs: {
      role: 'progressbar', 'aria-label': t('campaigns.progress'), 'aria-valuemin': 0, 'aria-valuemax': c.total, 'aria-valuenow': done,
      'aria-valuetext': t('campaigns.progress.text', { done: formatNumber(done), total: formatNumber(c.total) }) } },
    BAR.filter((state) => c.progress[state]).map((state) => el('span', { class: `part ${state}`, attrs: {
      'data-share': Math.round((100 * c.progress[state]) / Math.max(1, c.total)) } })));
    // Widths go through the CSSOM (CSP allows no inline style attribute).
    for (const part of bar.children) part.style.width = `${part.dataset.share}%`;
    const legend = el('dl', { class: 'campaign-legend' }, ['sent', 'delivered', 'read', 'failed', 'skipped', 'pending'].map((state) => {
      const value = state === 'pending' ? (c.progress.pending ?? 0) + (c.progress.sending ?? 0) : state === 'skipped'
        ? (c.progress.skipped ?? 0) + (c.progress.cancelled ?? 0) : (c.progress[state] ?? 0);
      return el('div', { class: `legend ${state}` }, el('dt', { text: t(`campaigns.state.${state}`) }), el('dd', { text: formatNumber(value) }));
    }));
    const when = c.finishedAt ? t('campaigns.finished', { at: formatFullTime(c.finishedAt) })
      : c.startedAt ? t('campaigns.started', { at: formatFullTime(c.startedAt) })
        : c.scheduledAt ? t('campaigns.scheduledFor', { at: formatFullTime(c.scheduledAt) }) : '';
    const report = this.report;
    const channels = dataTable({
      caption: t('campaigns.perChannel'),
      rows: report.channels,
      columns: [
        { label: t('campaigns.channelCol'), value: (row) => (row.channel === '-' ? t('campaigns.nowhere') : t(`channel.${row.channel}`)) },
        ...['sent', 'delivered', 'read', 'failed', 'skipped', 'pending'].map((key) => ({
          label: t(`campaigns.state.${key}`), numeric: true, value: (row) => formatNumber(row[key]) })),
      ],
    });
    // The report per channel as bars (its numbers and CSV one click away); the table below adds pending.
    const channelName = (row) => (row.channel === '-' ? t('campaigns.nowhere') : t(`channel.${row.channel}`));
    const outcomes = [['sent', 'one'], ['delivered', 'two'], ['read', 'three'], ['failed', 'bad'], ['skipped', 'warn']];
    const chart = barChart({
      title: t('campaigns.chart'), csvName: `campaign-${c.id}-channels.csv`, rows: report.channels, label: channelName,
      columns: [{ label: t('campaigns.channelCol'), csv: 'channel', value: (row) => row.channel, show: channelName },
        ...outcomes.map(([key]) => ({ label: t(`campaigns.state.${key}`), csv: key, numeric: true, value: (row) => row[key] ?? 0 }))],
      series: outcomes.map(([key, kind]) => ({ name: t(`campaigns.state.${key}`), kind, value: (row) => row[key] ?? 0 })),
      format: (n) => formatNumber(Math.round(n)),
    });
    const reasons = dataTable({
      caption: t('campaigns.reasons'),
      empty: t('campaigns.noReasons'),
      rows: report.reasons,
      columns: [
        { label: t('campaigns.status'), value: (row) => t(`campaigns.state.${row.status}`) },
        { label: t('campaigns.reason'), value: (row) => row.reason },
        { label: t('campaigns.count'), numeric: true, value: (row) => formatNumber(row.count) },
      ],
    });
    const download = csvButton(`campaign-${c.id}-recipients.csv`, () => this.recipientsCsv ?? []);
    download.textContent = t('campaigns.recipientsCsv');
    // The CSV is fetched first (every page of recipients), then the button's own download runs.
    download.addEventListener('click', async (event) => {
      if (this.recipientsCsv) return;
      event.stopImmediatePropagation();
      try {
        const rows = await campaignsApi.recipients(c.id);
        this.recipientsCsv = [['id', 'contactId', 'channel', 'status', 'reason', 'platformMessageId', 'updatedAt'],
          ...rows.map((r) => [r.id, r.contactId, r.channel ?? '', r.status, r.reason ?? '', r.platformMessageId ?? '', r.updatedAt])];
        download.click();
      } catch (error) {
        this.status.fail(error);
      } finally {
        this.recipientsCsv = null;
      }
    }, { capture: true });
    this.replaceChildren(
      pageHead(c.name, ...actions),
      el('p', {}, el('span', { class: `label ${statusClass(c.status)}`, text: t(`campaigns.state.${c.status}`), attrs: { 'aria-label': t('campaigns.status') } }),
        ' ', el('span', { class: 'hint', text: when })),
      this.status,
      el('section', { class: 'card', attrs: { 'aria-label': t('campaigns.progress') } }, bar, legend),
      el('h2', { text: t('campaigns.report') }),
      chart,
      el('div', { class: 'table-scroll' }, channels), reasons,
      el('div', { class: 'page-actions' }, download,
        el('a', { class: 'button', text: t('campaigns.reportCsv'), attrs: { href: `/api/v1/campaigns/${c.id}/report?format=csv`, download: `campaign-${c.id}-report.csv` } }),
        el('a', { class: 'button', text: t('campaigns.back'), attrs: { href: '#/campaigns' } })));
  }
}

customElements.define('campaign-detail', CampaignDetail);
