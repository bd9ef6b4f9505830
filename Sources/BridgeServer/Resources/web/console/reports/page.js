// The console's Reports: for a run of days (the last 30 by default) in the viewer's own time zone,
// tickets opened and resolved per day, satisfaction per day, the busiest hours of the week, and
// first-response and resolution times overall, per agent and per channel. Everything comes from
// GET /api/v1/reports/service; every CSV here has the columns and figures of that API's CSV.
import { el } from '../../dom.js';
import { currentLanguage, formatNumber, t, useCatalogue } from '../../i18n.js';
import { barChart, heatMap, lineChart } from '../charts.js';
import { csvButton, dataTable, field, pageHead } from '../ui.js';
import { serviceReport } from './api.js';

await useCatalogue((code) => import(`./i18n/${code}.js`).then((module) => module.default));

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

/** `YYYY-MM-DD` of a local date. */
function localDay(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

/** The API's way of writing a figure in CSV: seconds and shares with three decimals, none as ''. */
const fixed = (value) => (value == null ? '' : value.toFixed(3));

/** A duration for people: "45 sec", "12 min", "3.5 hr", "2 days" in the page's language. */
function duration(seconds) {
  if (seconds == null) return t('reports.none');
  const [value, unit] = seconds < 60 ? [seconds, 'second'] : seconds < 3600 ? [seconds / 60, 'minute']
    : seconds < 172800 ? [seconds / 3600, 'hour'] : [seconds / 86400, 'day'];
  return new Intl.NumberFormat(currentLanguage(), { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: value < 10 ? 1 : 0 }).format(value);
}

const percent = (share) => (share == null ? t('reports.none') : new Intl.NumberFormat(currentLanguage(), { style: 'percent' }).format(share));
const shortDay = (date) => new Intl.DateTimeFormat(currentLanguage(), { month: 'numeric', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
const weekday = (index) => new Intl.DateTimeFormat(currentLanguage(), { weekday: 'short', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + index)));

/** The six columns of a duration pair, as the API's CSV writes them. */
function durationColumns() {
  const pair = (prefix, csv, pick) => [
    { label: t(`reports.col.${prefix}Count`), csv: `${csv}s`, numeric: true, value: (row) => pick(row).count },
    { label: t(`reports.col.${prefix}Median`), csv: `median_${csv}_seconds`, numeric: true, value: (row) => fixed(pick(row).medianSeconds), show: (row) => duration(pick(row).medianSeconds) },
    { label: t(`reports.col.${prefix}P90`), csv: `p90_${csv}_seconds`, numeric: true, value: (row) => fixed(pick(row).p90Seconds), show: (row) => duration(pick(row).p90Seconds) },
  ];
  return [...pair('first', 'first_response', (row) => row.firstResponse), ...pair('resolved', 'resolution', (row) => row.resolution)];
}

/** A table with its CSV button: `columns` as charts take them (label shown, csv in the file; a
 *  `csvOnly` column, like an id, is in the file but not on the page). */
function tableWithCsv(title, csvName, columns, rows) {
  const download = csvButton(csvName, () => [columns.map((c) => c.csv), ...rows.map((row) => columns.map((c) => c.value(row)))]);
  download.setAttribute('aria-label', t('charts.csv', { title }));
  const table = dataTable({ caption: title, columns: columns.filter((c) => !c.csvOnly).map((c) => ({ label: c.label, numeric: c.numeric, value: c.show ?? c.value })), rows });
  table.caption.className = 'visually-hidden';  // the heading above shows the name
  return el('section', { class: 'report-table' },
    el('div', { class: 'report-table-head' }, el('h2', { text: title }), download),
    el('div', { class: 'table-scroll' }, table));
}

class ReportsSection extends HTMLElement {
  connectedCallback() {
    if (this.form) return;
    const today = new Date();
    const start = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29);
    this.zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    this.period = { from: localDay(start), to: localDay(today) };
    this.build();
    this.load();
  }

  /** Called by the console when the language may have changed: everything is drawn again in it. */
  relabel() {
    if (this.language === currentLanguage()) return;
    this.build();
    if (this.report) this.render();
  }

  build() {
    this.language = currentLanguage();
    this.fromInput = el('input', { attrs: { type: 'date', required: true, value: this.period.from } });
    this.toInput = el('input', { attrs: { type: 'date', required: true, value: this.period.to } });
    this.status = el('p', { class: 'status-line', attrs: { role: 'status' } });
    this.form = el('form', { class: 'report-period', attrs: { 'aria-label': t('reports.period') }, on: { submit: (event) => {
      event.preventDefault();
      if (this.fromInput.value > this.toInput.value) {
        this.status.dataset.kind = 'bad';
        this.status.textContent = t('reports.invalid');
        return;
      }
      this.period = { from: this.fromInput.value, to: this.toInput.value };
      this.load();
    } } },
    field(t('reports.from'), this.fromInput), field(t('reports.to'), this.toInput),
    el('button', { class: 'primary', text: t('reports.show'), attrs: { type: 'submit' } }),
    el('p', { class: 'hint', text: t('reports.zone', { zone: this.zone }) }));
    this.body = el('div', { class: 'report-body', attrs: { 'aria-live': 'polite', 'aria-busy': 'false' } });
    this.replaceChildren(pageHead(t('reports.title')), this.form, this.status, this.body);
  }

  async load() {
    const asked = { ...this.period, timeZone: this.zone };
    this.asked = asked;
    this.body.setAttribute('aria-busy', 'true');
    delete this.status.dataset.kind;
    this.status.textContent = t('reports.loading');
    try {
      const report = await serviceReport(asked);
      if (this.asked !== asked) return;
      this.report = report;
      this.status.textContent = '';
      this.render();
    } catch (error) {
      if (this.asked !== asked) return;
      this.status.dataset.kind = 'bad';
      this.status.textContent = t('reports.failed', { message: error.message });
    } finally {
      if (this.asked === asked) this.body.setAttribute('aria-busy', 'false');
    }
  }

  render() {
    const report = this.report;
    const dayColumns = [
      { label: t('reports.col.date'), csv: 'date', value: (d) => d.date },
      { label: t('reports.col.opened'), csv: 'opened', numeric: true, value: (d) => d.opened },
      { label: t('reports.col.resolved'), csv: 'resolved', numeric: true, value: (d) => d.resolved },
      { label: t('reports.col.good'), csv: 'ratings_good', numeric: true, value: (d) => d.ratingsGood },
      { label: t('reports.col.bad'), csv: 'ratings_bad', numeric: true, value: (d) => d.ratingsBad },
      { label: t('reports.col.satisfaction'), csv: 'satisfaction', numeric: true, value: (d) => fixed(d.satisfaction), show: (d) => percent(d.satisfaction) },
    ];
    const summary = (title, figures) => el('section', { class: 'report-figure', attrs: { 'aria-label': title } },
      el('h2', { text: title }),
      el('p', { class: 'report-big', text: t('reports.median', { value: duration(figures.medianSeconds) }) }),
      el('p', { text: t('reports.p90', { value: duration(figures.p90Seconds) }) }),
      el('p', { class: 'hint', text: t('reports.count', { count: formatNumber(figures.count) }) }));
    const hours = report.busiestHours.map((counts, index) => ({ index, counts }));
    this.body.replaceChildren(
      el('div', { class: 'report-summary' }, summary(t('reports.firstResponse'), report.firstResponse), summary(t('reports.resolution'), report.resolution)),
      barChart({ title: t('reports.volume'), csvName: 'days.csv', columns: dayColumns, rows: report.days, label: (d) => shortDay(d.date),
        series: [{ name: t('reports.col.opened'), kind: 'one', value: (d) => d.opened }, { name: t('reports.col.resolved'), kind: 'two', value: (d) => d.resolved }],
        format: (n) => formatNumber(Math.round(n)) }),
      lineChart({ title: t('reports.satisfaction'), csvName: 'satisfaction.csv', columns: [dayColumns[0], ...dayColumns.slice(3)], rows: report.days,
        label: (d) => shortDay(d.date), series: [{ name: t('reports.col.satisfaction'), kind: 'one', value: (d) => d.satisfaction }], format: percent, max: 1 }),
      heatMap({ title: t('reports.hours'), csvName: 'hours.csv', rows: hours, rowLabel: (row) => weekday(row.index), cells: (row) => row.counts,
        cellLabels: HOURS.map(String),
        columns: [{ label: t('reports.col.weekday'), csv: 'weekday', value: (row) => WEEKDAYS[row.index], show: (row) => weekday(row.index) },
          ...HOURS.map((hour) => ({ label: String(hour), csv: String(hour), numeric: true, value: (row) => row.counts[hour] }))] }),
      tableWithCsv(t('reports.agents'), 'agents.csv', [
        { csv: 'agent_id', value: (a) => a.agentId, csvOnly: true },
        { label: t('reports.col.agent'), csv: 'name', value: (a) => a.name },
        ...durationColumns(),
      ], report.agents),
      tableWithCsv(t('reports.channels'), 'channels.csv', [
        { label: t('reports.col.channel'), csv: 'channel', value: (c) => c.channel, show: (c) => t(`channel.${c.channel}`) },
        { label: t('reports.col.opened'), csv: 'opened', numeric: true, value: (c) => c.opened },
        ...durationColumns(),
      ], report.channels));
  }
}
customElements.define('console-reports', ReportsSection);
