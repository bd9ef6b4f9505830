// Health: the bridge's version, this process's uptime, the database's size, how much waits in
// each queue and the latest errors (GET /api/v1/system, worked out from the database so the
// figures are right whichever process answers), and the way to the Prometheus figures.
import { el } from '../../dom.js';
import { currentLanguage, formatNumber, t, useCatalogue } from '../../i18n.js';
import { csvButton, dataTable, pageHead, statusLine } from '../ui.js';
import { healthApi } from './api.js';

await useCatalogue((code) => import(`./i18n/${code}.js`).then((m) => m.default));

/** A time to the second, in the reader's language and time zone. */
function formatFullTime(iso) {
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

const QUEUES = ['outbox', 'jobs', 'alertDeliveries', 'webhookDeliveries', 'campaignRecipients'];

/** 1536 → "1.5 KB" (binary units, one decimal under 10). */
export function formatBytes(bytes) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  const shown = unit === 0 || value >= 10 ? Math.round(value) : Math.round(value * 10) / 10;
  return `${formatNumber(shown)} ${units[unit]}`;
}

/** 93784 s → "1 d 2 h 3 min" (the catalogue's units). */
export function formatUptime(seconds) {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const parts = [];
  if (days) parts.push(t('health.uptime.days', { n: days }));
  if (days || hours) parts.push(t('health.uptime.hours', { n: hours }));
  parts.push(t('health.uptime.minutes', { n: minutes }));
  return parts.join(' ');
}

/** The table's caption stays its accessible name but is not shown: the part's heading says it. */
function hiddenCaption(table) {
  table.caption.classList.add('visually-hidden');
  return table;
}

class HealthPage extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.render();
    this.load();
  }

  relabel() { this.render(); }

  async load() {
    try {
      this.system = await healthApi.system();
      this.status.clear();
    } catch (error) {
      this.status.fail(error);
    }
    this.render();
  }

  render() {
    const refresh = el('button', { text: t('health.refresh'), attrs: { type: 'button' }, on: { click: () => this.load() } });
    const metrics = el('a', { class: 'button', text: t('health.metrics'), attrs: { href: this.system?.metricsPath ?? '/metrics', target: '_blank', rel: 'noopener' } });
    const parts = [pageHead(t('health.title'), refresh, metrics), this.status];
    const s = this.system;
    if (s) {
      const facts = [
        ['health.version', s.version],
        ['health.database', t(`health.database.${s.database}`)],
        ['health.size', formatBytes(s.databaseBytes)],
        ['health.uptime', formatUptime(s.uptimeSeconds)],
        ['health.started', formatFullTime(s.startedAt)],
      ];
      parts.push(el('dl', { class: 'health-facts' }, facts.map(([key, value]) => el('div', {}, el('dt', { text: t(key) }), el('dd', { text: value })))));
      const queueRows = QUEUES.map((key) => ({ key, waiting: s.queues[key] }));
      parts.push(el('section', { class: 'health-part' },
        el('div', { class: 'part-head' }, el('h2', { text: t('health.queues') }),
          csvButton('queues.csv', () => [[t('health.queue'), t('health.waiting')], ...queueRows.map((row) => [t(`health.queue.${row.key}`), row.waiting])])),
        hiddenCaption(dataTable({
          caption: t('health.queues'),
          columns: [
            { label: t('health.queue'), value: (row) => t(`health.queue.${row.key}`) },
            { label: t('health.waiting'), value: (row) => formatNumber(row.waiting), numeric: true },
          ],
          rows: queueRows,
        }))));
      parts.push(el('section', { class: 'health-part' },
        el('div', { class: 'part-head' }, el('h2', { text: t('health.errors') }),
          csvButton('recent-errors.csv', () => [['at', 'kind', 'account', 'reason', 'ticketId'],
            ...s.recentErrors.map((e) => [e.at, e.kind, e.account, e.reason, e.ticketId ?? ''])])),
        hiddenCaption(dataTable({
          caption: t('health.errors'),
          empty: t('health.errors.none'),
          columns: [
            { label: t('health.at'), value: (e) => formatFullTime(e.at) },
            { label: t('health.kind'), value: (e) => t(`health.kind.${e.kind}`) },
            { label: t('health.account'), value: (e) => e.account },
            { label: t('health.reason'), value: (e) => e.reason },
            { label: t('health.ticket'), value: (e) => (e.ticketId ? el('a', { text: `#${e.ticketId}`, attrs: { href: `/inbox/#/all/${e.ticketId}` } }) : '') },
          ],
          rows: s.recentErrors,
        }))));
    }
    this.replaceChildren(...parts);
  }
}

customElements.define('console-health', HealthPage);
