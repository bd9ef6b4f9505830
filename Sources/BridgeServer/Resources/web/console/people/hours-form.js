// Business hours, the default ones or a department's: time zone, one opening period per weekday
// (a day left empty is closed; a day the API holds with several periods keeps them unless changed
// here), holidays (one date a line, closed all day), the acknowledgement and the out-of-hours reply.
import { el } from '../../dom.js';
import { t } from '../../i18n.js';
import { field } from '../ui.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const input = (type, value, attrs = {}) => { const node = el('input', { attrs: { type, ...attrs } }); node.value = value ?? ''; return node; };

/**
 * hoursForm(hours or null, save(hours) → Promise, options): a <form> named by `title` (default
 * "Business hours"); `key` keeps its heading's id apart from another form's on the page; `hint`
 * replaces the line under the heading; `actions` are more buttons beside Save.
 */
export function hoursForm(hours, save, { title = t('people.hours'), key = 'default', hint, actions = [] } = {}) {
  const zone = input('text', hours?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, { spellcheck: 'false', required: true });
  const days = DAYS.map((day) => {
    const periods = hours?.weekly?.[day] ?? [];
    const opens = input('time', periods[0]?.[0] ?? '');
    const closes = input('time', periods[periods.length - 1]?.[1] ?? '');
    opens.setAttribute('aria-label', t('people.hours.opens', { day: t(`people.day.${day}`) }));
    closes.setAttribute('aria-label', t('people.hours.closes', { day: t(`people.day.${day}`) }));
    const row = el('tr', {}, el('th', { text: t(`people.day.${day}`), attrs: { scope: 'row' } }), el('td', {}, opens), el('td', {}, closes));
    const read = () => {
      if (!opens.value && !closes.value) return [];
      if (periods.length > 1 && opens.value === periods[0][0] && closes.value === periods[periods.length - 1][1]) return periods;
      return [[opens.value, closes.value]];
    };
    return { day, row, read };
  });
  const holidays = el('textarea', { attrs: { rows: 4, spellcheck: 'false' } });
  holidays.value = (hours?.holidays ?? []).join('\n');
  const acknowledgement = el('textarea', { attrs: { rows: 2 } });
  acknowledgement.value = hours?.acknowledgement ?? '';
  const outOfHours = el('textarea', { attrs: { rows: 2 } });
  outOfHours.value = hours?.outOfHoursReply ?? '';
  const error = el('p', { class: 'form-error', attrs: { role: 'alert' } });
  const form = el('form', { class: 'card hours-form', attrs: { 'aria-labelledby': `hours-title-${key}`, novalidate: true } },
    el('h2', { text: title, attrs: { id: `hours-title-${key}` } }),
    el('p', { class: 'hint', text: hint ?? (hours ? t('people.hours.hint') : t('people.hours.none')) }),
    field(t('people.hours.zone'), zone, t('people.hours.zone.hint')),
    el('table', { class: 'data week' }, el('caption', { text: t('people.hours.week') }),
      el('thead', {}, el('tr', {}, [t('people.hours.day'), t('people.hours.open'), t('people.hours.close')].map((label) => el('th', { text: label, attrs: { scope: 'col' } })))),
      el('tbody', {}, days.map((d) => d.row))),
    field(t('people.hours.holidays'), holidays, t('people.hours.holidays.hint')),
    field(t('people.hours.ack'), acknowledgement),
    field(t('people.hours.outOfHours'), outOfHours),
    error,
    el('div', { class: 'form-actions' }, el('button', { class: 'primary', text: t('people.hours.save'), attrs: { type: 'submit' } }), ...actions));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const weekly = {};
    for (const d of days) { const periods = d.read(); if (periods.length) weekly[d.day] = periods; }
    const made = { timeZone: zone.value.trim(), weekly,
      holidays: holidays.value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean) };
    if (acknowledgement.value.trim()) made.acknowledgement = acknowledgement.value;
    if (outOfHours.value.trim()) made.outOfHoursReply = outOfHours.value;
    try {
      await save(made);
    } catch (failure) {
      error.textContent = t('console.failed', { message: failure.message });
    }
  });
  return form;
}
