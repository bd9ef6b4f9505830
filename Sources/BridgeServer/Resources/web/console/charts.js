// The console's charts: SVG drawn here (no library), in three kinds: bars, lines and a week × hour
// heat map. Each is a <figure> whose caption names the chart (and the SVG by aria-labelledby), with
// its numbers one click away as a table and a CSV download of the same table. Colours come from the
// CSS tokens through classes (console/charts.css), so light and dark themes follow on their own;
// the SVG is redrawn at its box's width, so text keeps its size on a phone.
//
// The data of every chart is a table: `columns` [{label, csv, value: (row) => raw, show?: (row) => text}]
// and `rows`. The table shows `show(row)` (or the raw value), the CSV the raw value under `csv`.
import { el } from '../dom.js';
import { t, useCatalogue } from '../i18n.js';
import { csvButton, dataTable } from './ui.js';

await useCatalogue((code) => import(`./i18n/charts.${code}.js`).then((module) => module.default));

const SVG = 'http://www.w3.org/2000/svg';
let counter = 0;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

const text = (x, y, content, attrs = {}) => svg('text', { x, y, ...attrs }, content);
const hint = (content) => svg('title', {}, content);

/** The frame every chart shares: caption, drawing, "show numbers" table and CSV. */
function figure({ title, csvName, columns, rows, draw, legend = [] }) {
  const id = `chart${++counter}`;
  const table = dataTable({ caption: title, columns: columns.map((c) => ({ label: c.label, numeric: c.numeric, value: c.show ?? c.value })), rows });
  table.caption.className = 'visually-hidden';  // the figure's caption shows the name
  const tableBox = el('div', { class: 'chart-table', attrs: { id: `${id}-table`, hidden: true } }, table);
  const toggle = el('button', { text: t('charts.show'), attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': `${id}-table` } });
  toggle.addEventListener('click', () => {
    const open = tableBox.hidden;
    tableBox.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = t(open ? 'charts.hide' : 'charts.show');
  });
  const download = csvButton(csvName, () => [columns.map((c) => c.csv), ...rows.map((row) => columns.map((c) => c.value(row)))]);
  download.setAttribute('aria-label', t('charts.csv', { title }));
  const drawing = el('div', { class: 'chart-drawing' });
  const node = el('figure', { class: 'chart', attrs: { 'data-chart': id } },
    el('figcaption', {}, el('span', { class: 'chart-title', text: title, attrs: { id: `${id}-title` } }),
      el('span', { class: 'chart-actions' }, toggle, download)),
    legend.length ? el('ul', { class: 'chart-legend' }, legend.map(([label, kind]) => el('li', {}, el('span', { class: `swatch ${kind}` }), label))) : null,
    drawing, tableBox);
  let width = 0;
  const render = () => {
    const next = Math.max(280, Math.floor(drawing.clientWidth || 600));
    if (next === width) return;
    width = next;
    const picture = draw(width);
    picture.setAttribute('role', 'img');
    picture.setAttribute('aria-labelledby', `${id}-title`);
    drawing.replaceChildren(picture);
  };
  new ResizeObserver(render).observe(drawing);
  queueMicrotask(render);
  return node;
}

/** A round upper bound for an axis of counts at or above `value`: 2, 4 or 10 × 10ⁿ (at least 2),
 *  so its half, the middle gridline, is a whole number too. A chart of shares passes its own max. */
function niceMax(value) {
  if (!(value > 2)) return 2;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 4, 10].map((step) => step * power).find((candidate) => candidate >= value);
}

/** Axes shared by bars and lines: y gridlines (0, half, max) and every nth x label. */
function axes(box, labels, max, format, slot) {
  const { left, top, plotWidth, plotHeight } = box;
  const parts = [];
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plotHeight * (1 - fraction);
    parts.push(svg('line', { class: 'grid', x1: left, x2: left + plotWidth, y1: y, y2: y }));
    parts.push(text(left - 6, y + 4, format(max * fraction), { class: 'axis', 'text-anchor': 'end' }));
  }
  const every = Math.max(1, Math.ceil(labels.length / Math.max(1, Math.floor(plotWidth / 56))));
  labels.forEach((label, i) => {
    if (i % every) return;
    parts.push(text(left + slot * (i + 0.5), top + plotHeight + 16, label, { class: 'axis', 'text-anchor': 'middle' }));
  });
  return parts;
}

const box = (width, height) => ({ left: 44, top: 10, plotWidth: width - 54, plotHeight: height - 36 });

/**
 * barChart({title, csvName, columns, rows, label: (row) => axis text, series: [{name, kind, value: (row) => number}], format})
 * Grouped bars, one group per row.
 */
export function barChart({ title, csvName, columns, rows, label, series, format = String, height = 220 }) {
  return figure({ title, csvName, columns, rows, legend: series.map((s) => [s.name, s.kind]), draw: (width) => {
    const frame = box(width, height);
    const max = niceMax(Math.max(0, ...rows.flatMap((row) => series.map((s) => s.value(row) ?? 0))));
    const slot = frame.plotWidth / Math.max(1, rows.length);
    const barWidth = Math.max(1, (slot * 0.8) / series.length);
    const bars = rows.flatMap((row, i) => series.map((s, j) => {
      const value = s.value(row) ?? 0;
      const barHeight = (frame.plotHeight * value) / max;
      return svg('rect', { class: `bar ${s.kind}`, x: frame.left + slot * i + slot * 0.1 + barWidth * j, y: frame.top + frame.plotHeight - barHeight,
        width: barWidth, height: barHeight }, hint(`${label(row)} · ${s.name}: ${format(value)}`));
    }));
    return svg('svg', { class: 'chart-svg', width, height, viewBox: `0 0 ${width} ${height}` }, ...axes(frame, rows.map(label), max, format, slot), ...bars);
  } });
}

/**
 * lineChart({title, csvName, columns, rows, label, series: [{name, kind, value}], format, max})
 * One line per series; a row without a value (null) breaks the line, a lone value is a dot.
 */
export function lineChart({ title, csvName, columns, rows, label, series, format = String, max: fixedMax, height = 200 }) {
  return figure({ title, csvName, columns, rows, legend: series.map((s) => [s.name, s.kind]), draw: (width) => {
    const frame = box(width, height);
    const max = fixedMax ?? niceMax(Math.max(0, ...rows.flatMap((row) => series.map((s) => s.value(row) ?? 0))));
    const slot = frame.plotWidth / Math.max(1, rows.length);
    const point = (i, value) => [frame.left + slot * (i + 0.5), frame.top + frame.plotHeight * (1 - value / max)];
    const drawn = series.flatMap((s) => {
      const runs = [];
      let run = [];
      const dots = [];
      rows.forEach((row, i) => {
        const value = s.value(row);
        if (value == null) { if (run.length) runs.push(run); run = []; return; }
        const [x, y] = point(i, value);
        run.push(`${x.toFixed(1)},${y.toFixed(1)}`);
        dots.push(svg('circle', { class: `dot ${s.kind}`, cx: x, cy: y, r: 3 }, hint(`${label(row)} · ${s.name}: ${format(value)}`)));
      });
      if (run.length) runs.push(run);
      return [...runs.filter((r) => r.length > 1).map((r) => svg('polyline', { class: `line ${s.kind}`, points: r.join(' ') })), ...dots];
    });
    return svg('svg', { class: 'chart-svg', width, height, viewBox: `0 0 ${width} ${height}` }, ...axes(frame, rows.map(label), max, format, slot), ...drawn);
  } });
}

/**
 * heatMap({title, csvName, columns, rows, rowLabel: (row) => text, cells: (row) => [numbers], cellLabels: [text]})
 * A grid (a row per table row, a cell per value), each cell shaded by its share of the largest.
 */
export function heatMap({ title, csvName, columns, rows, rowLabel, cells, cellLabels }) {
  return figure({ title, csvName, columns, rows, draw: (width) => {
    const left = 44, top = 4, size = Math.min(28, (width - left - 4) / cellLabels.length), tall = Math.max(16, size);
    const height = top + tall * rows.length + 20;
    const max = Math.max(1, ...rows.flatMap((row) => cells(row)));
    const parts = [];
    rows.forEach((row, r) => {
      parts.push(text(left - 6, top + tall * (r + 0.5) + 4, rowLabel(row), { class: 'axis', 'text-anchor': 'end' }));
      cells(row).forEach((value, c) => {
        parts.push(svg('rect', { class: value ? 'cell' : 'cell empty', x: left + size * c + 1, y: top + tall * r + 1, width: Math.max(1, size - 2), height: tall - 2,
          'fill-opacity': value ? (0.15 + 0.85 * (value / max)).toFixed(3) : null }, hint(`${rowLabel(row)} ${cellLabels[c]}: ${value}`)));
      });
    });
    const every = size >= 20 ? 2 : size >= 12 ? 3 : 6;
    cellLabels.forEach((label, c) => {
      if (c % every === 0) parts.push(text(left + size * (c + 0.5), top + tall * rows.length + 14, label, { class: 'axis', 'text-anchor': 'middle' }));
    });
    return svg('svg', { class: 'chart-svg', width, height, viewBox: `0 0 ${width} ${height}` }, ...parts);
  } });
}
