// Which department each channel account's new tickets open in: a ticket from an account with a
// department waits in that department's queue and goes only to its agents (with its business
// hours); without one it goes to any online agent. Tickets already open stay where they are.
import { el } from '../../dom.js';
import { t } from '../../i18n.js';
import { dataTable } from '../ui.js';

/** routingPart(accounts, departments, route(account, departmentId or null)): the routing table. */
export function routingPart(accounts, departments, route) {
  const choice = (account) => {
    const select = el('select', { attrs: { 'aria-label': t('people.routing.of', { account: account.key }) } },
      el('option', { text: t('people.routing.none'), attrs: { value: '' } }),
      departments.map((d) => el('option', { text: d.name, attrs: { value: String(d.id) } })));
    select.value = account.departmentId ? String(account.departmentId) : '';
    select.addEventListener('change', () => route(account, select.value ? Number(select.value) : null));
    return select;
  };
  return el('section', { class: 'routing', attrs: { 'aria-labelledby': 'routing-title' } },
    el('h2', { text: t('people.routing'), attrs: { id: 'routing-title' } }),
    el('p', { class: 'hint', text: t('people.routing.hint') }),
    el('div', { class: 'table-scroll' }, dataTable({ caption: t('people.routing.caption'), rows: accounts, empty: t('people.routing.empty'), columns: [
      { label: t('people.routing.account'), value: (a) => a.key },
      { label: t('people.routing.source'), value: (a) => t(a.source === 'file' ? 'people.routing.file' : 'people.routing.console') },
      { label: t('people.routing.department'), value: choice },
    ] })));
}
