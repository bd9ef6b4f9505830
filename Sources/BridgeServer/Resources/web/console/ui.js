// Pieces every console section builds with, so the sections look and behave alike: a page head,
// a data table with its numbers downloadable as CSV, labelled fields, a status line that says what
// an action did (or why it failed, in the API's words), and a copy button. Text always goes in as
// text (dom.js), never as markup.
import { el } from '../dom.js';
import { t } from '../i18n.js';

let counter = 0;

/** <header> with the section's <h1> and its actions on the right. */
export function pageHead(title, ...actions) {
  return el('header', { class: 'page-head' }, el('h1', { text: title }), el('div', { class: 'page-actions' }, ...actions));
}

/** A labelled control, with an optional hint under it (tied by aria-describedby). */
export function field(label, control, hint) {
  control.id ||= `cf${++counter}`;
  const parts = [el('label', { text: label, attrs: { for: control.id } }), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(el('p', { class: 'hint', text: hint, attrs: { id: hintId } }));
  }
  return el('div', { class: 'field' }, ...parts);
}

/**
 * dataTable({caption, columns: [{label, value: (row) => string|number|Node, numeric}], rows, empty})
 * A table with a caption (its accessible name); cells are text unless `value` returns a node.
 */
export function dataTable({ caption, columns, rows, empty = t('console.empty') }) {
  const head = el('tr', {}, columns.map((column) => el('th', { text: column.label, class: column.numeric ? 'num' : '', attrs: { scope: 'col' } })));
  const body = rows.length
    ? rows.map((row) => el('tr', {}, columns.map((column) => {
      const value = column.value(row);
      return el('td', { class: column.numeric ? 'num' : '' }, value instanceof Node ? value : document.createTextNode(value ?? ''));
    })))
    : [el('tr', {}, el('td', { class: 'empty', text: empty, attrs: { colspan: columns.length } }))];
  return el('table', { class: 'data' }, el('caption', { text: caption }), el('thead', {}, head), el('tbody', {}, body));
}

/** The text of a CSV file (RFC 4180: every field quoted where needed, CRLF line ends). A field
 *  starting with = + - @ is prefixed with ' so a spreadsheet never runs it as a formula. */
export function csv(rows) {
  const cell = (value) => {
    let text = value == null ? '' : String(value);
    if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return rows.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** A button that downloads `rows()` (header row first) as `filename`. */
export function csvButton(filename, rows) {
  return el('button', { text: t('console.csv'), attrs: { type: 'button' }, on: { click: () => {
    const url = URL.createObjectURL(new Blob([csv(rows())], { type: 'text/csv;charset=utf-8' }));
    const link = el('a', { attrs: { href: url, download: filename } });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  } } });
}

/** A button that copies `text` to the clipboard and says so. */
export function copyButton(text, label = t('console.copy')) {
  const button = el('button', { class: 'copy', text: label, attrs: { type: 'button' } });
  button.addEventListener('click', async () => {
    await navigator.clipboard.writeText(text);
    button.textContent = t('console.copied');
    setTimeout(() => { button.textContent = label; }, 1500);
  });
  return button;
}

/** A status line (role=status) for what an action did; `fail(error)` shows the API's message. */
export function statusLine() {
  const node = el('p', { class: 'status-line', attrs: { role: 'status' } });
  node.ok = (text = t('console.saved')) => { node.dataset.kind = 'ok'; node.textContent = text; };
  node.fail = (error) => { node.dataset.kind = 'bad'; node.textContent = t('console.failed', { message: error.message }); };
  node.clear = () => { delete node.dataset.kind; node.textContent = ''; };
  return node;
}
