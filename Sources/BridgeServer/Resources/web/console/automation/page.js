// The console's Automation section: the rules in the order they run. Each can be changed, turned
// off and on, deleted, and moved: by dragging it, with its Move up / Move down buttons, or with
// Alt+↑ / Alt+↓ on it. "Try on a ticket" asks the server which rules of a trigger would fire on a
// ticket now (POST /api/v1/rules/test, the engine's own check; nothing changes) and shows the
// ticket's tags, status and priority beside, so a rule's effect can be seen after it ran.
import { el } from '../../dom.js';
import { t, useCatalogue } from '../../i18n.js';
import { field, pageHead, statusLine } from '../ui.js';
import { automationApi as api } from './api.js';
import { ruleForm, TRIGGERS } from './rule-form.js';
import './replies.js';
import './webhooks.js';
import './fields-views.js';

/** The section's parts, by the address's path: the rules first. */
const PARTS = [['', 'automation.part.rules', null], ['replies', 'automation.part.replies', 'automation-replies'], ['fields', 'automation.part.fields', 'automation-fields-views'], ['webhooks', 'automation.part.webhooks', 'automation-webhooks']];

await useCatalogue((code) => import(`./i18n/${code}.js`).then((m) => m.default));

class AutomationSection extends HTMLElement {
  get path() { return this._path ?? ''; }

  /** The app sets the path as the address changes: show that part. */
  set path(value) {
    const changed = value !== this._path;
    this._path = value;
    if (changed && this.isConnected) this.showPart();
  }

  connectedCallback() {
    this.showPart();
  }

  /** The parts' navigation (links, so the address and the back button follow). */
  partsNav() {
    const current = PARTS.find(([key]) => key === this.path) ?? PARTS[0];
    return el('nav', { class: 'part-nav', attrs: { 'aria-label': t('automation.parts') } },
      PARTS.map(([key, label]) => el('a', { text: t(label),
        attrs: { href: key ? `#/automation/${key}` : '#/automation', 'aria-current': key === current[0] ? 'page' : false } })));
  }

  showPart() {
    const part = PARTS.find(([key]) => key === this.path) ?? PARTS[0];
    this.shownPart = part;  // not `this.part`: that is HTMLElement's CSS-parts list, which turns an array into a token string
    if (!part[2]) {
      this.startRules();
      return;
    }
    this.child = document.createElement(part[2]);
    this.replaceChildren(this.partsNav(), pageHead(t(part[1])), this.child);
  }

  startRules() {
    this.child = null;
    this.rules = [];
    this.editing = undefined;  // undefined: no form; null: a new rule; a rule: changing it
    this.status = statusLine();
    this.load();
  }

  async load() {
    try {
      const [rules, agents, departments, webhooks] = await Promise.all([
        api.rules(), api.agents(), api.departments(), api.webhooks()]);
      this.rules = rules;
      this.choices = { agents: agents.filter((a) => a.active !== false), departments, webhooks };
    } catch (error) {
      this.replaceChildren(el('p', { class: 'form-error', text: t('console.failed', { message: error.message }), attrs: { role: 'alert' } }));
      return;
    }
    this.render();
  }

  relabel() {
    if (this.child) {
      this.replaceChildren(this.partsNav(), pageHead(t(this.shownPart[1])), this.child);
      this.child.relabel?.();
    } else if (this.choices) this.render();
  }

  render() {
    const add = el('button', { class: 'primary', text: t('automation.new'), attrs: { type: 'button' }, on: { click: () => this.edit(null) } });
    this.form = this.editing === undefined ? null : ruleForm({
      rule: this.editing, choices: this.choices,
      onSave: (rule) => this.save(rule), onCancel: () => { this.editing = undefined; this.render(); },
    });
    this.list = el('ol', { class: 'rule-list', attrs: { 'aria-labelledby': 'rules-title' } }, this.rules.map((rule, index) => this.row(rule, index)));
    if (this.child) return;  // another part is showing
    this.replaceChildren(...[
      this.partsNav(),
      pageHead(t('automation.title'), add),
      el('p', { class: 'console-note', text: t('automation.intro') }),
      this.form,
      el('h2', { text: t('automation.rules'), attrs: { id: 'rules-title' } }),
      this.rules.length ? el('p', { class: 'hint', text: t('automation.reorder.hint') }) : el('p', { class: 'console-note', text: t('automation.none') }),
      this.list,
      this.status,
      this.trialPanel()].filter(Boolean));
    this.form?.focusFirst();
  }

  /** One rule in the list: drag it, or move it with the buttons or Alt+arrows. */
  row(rule, index) {
    const toggle = el('input', { attrs: { type: 'checkbox', 'aria-label': t('automation.activeOf', { name: rule.name }) } });
    toggle.checked = rule.active;
    toggle.addEventListener('change', () => this.setActive(rule, toggle.checked));
    const button = (text, label, action, disabled = false) => el('button', { text, attrs: { type: 'button', 'aria-label': label, disabled }, on: { click: action } });
    const item = el('li', { class: `rule${rule.active ? '' : ' off'}`, attrs: { draggable: 'true', tabindex: '0', 'data-id': rule.id, 'aria-label': rule.name } },
      el('span', { class: 'grip', text: '⋮⋮', attrs: { 'aria-hidden': 'true' } }),
      el('div', { class: 'rule-main' },
        el('strong', { class: 'rule-name', text: rule.name }),
        el('span', { class: 'label', text: t(`automation.trigger.${rule.trigger}`) }),
        rule.stop ? el('span', { class: 'label warn', text: t('automation.stops') }) : null,
        rule.active ? null : el('span', { class: 'label', text: t('automation.off') }),
        el('p', { class: 'rule-summary', text: this.summary(rule) })),
      el('div', { class: 'rule-buttons' },
        el('label', { class: 'check' }, toggle, el('span', { text: t('automation.on') })),
        button('↑', t('automation.moveUp', { name: rule.name }), () => this.move(rule.id, -1), index === 0),
        button('↓', t('automation.moveDown', { name: rule.name }), () => this.move(rule.id, 1), index === this.rules.length - 1),
        button(t('automation.edit'), t('automation.editOf', { name: rule.name }), () => this.edit(rule)),
        button(t('automation.delete'), t('automation.deleteOf', { name: rule.name }), () => this.remove(rule))));
    item.addEventListener('keydown', (event) => {
      if (event.target !== item || !event.altKey) return;
      if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
        event.preventDefault();
        this.move(rule.id, event.key === 'ArrowUp' ? -1 : 1);
      }
    });
    item.addEventListener('dragstart', (event) => {
      event.dataTransfer.setData('text/plain', String(rule.id));
      event.dataTransfer.effectAllowed = 'move';
      item.classList.add('dragging');
    });
    item.addEventListener('dragend', () => item.classList.remove('dragging'));
    item.addEventListener('dragover', (event) => { event.preventDefault(); event.dataTransfer.dropEffect = 'move'; item.classList.add('drop-target'); });
    item.addEventListener('dragleave', () => item.classList.remove('drop-target'));
    item.addEventListener('drop', (event) => {
      event.preventDefault();
      item.classList.remove('drop-target');
      const dragged = Number(event.dataTransfer.getData('text/plain'));
      if (dragged && dragged !== rule.id) this.place(dragged, this.rules.findIndex((r) => r.id === rule.id));
    });
    return item;
  }

  /** The conditions and actions in a line of words. */
  summary(rule) {
    const c = rule.conditions ?? {};
    const when = [];
    if (c.channels?.length) when.push(c.channels.map((ch) => t(`channel.${ch}`)).join('/'));
    if (c.textContains) when.push(t('automation.sum.contains', { text: c.textContains }));
    if (c.textMatches) when.push(t('automation.sum.matches', { text: c.textMatches }));
    if (c.tag) when.push(t('automation.sum.tag', { tag: c.tag }));
    if (c.departmentId) when.push(t('automation.sum.department', { name: this.choices.departments.find((d) => d.id === c.departmentId)?.name ?? `#${c.departmentId}` }));
    if (c.status) when.push(t('automation.sum.status', { status: t(`status.${c.status}`) }));
    if (c.businessHours) when.push(t(`automation.hours.${c.businessHours}`));
    if (rule.afterSeconds) when.push(t('automation.sum.after', { minutes: Math.round(rule.afterSeconds / 60) }));
    const does = rule.actions.map((a) => {
      const detail = a.tag ?? (a.priority && t(`priority.${a.priority}`)) ?? (a.status && t(`status.${a.status}`)) ?? a.canned ?? a.text
        ?? this.choices.agents.find((x) => x.id === a.agentId)?.name
        ?? this.choices.departments.find((x) => x.id === a.departmentId)?.name ?? '';
      return detail ? t('automation.sum.action', { action: t(`automation.action.${a.type}`), detail }) : t(`automation.action.${a.type}`);
    });
    return `${when.length ? when.join(', ') : t('automation.sum.always')} → ${does.join(', ')}`;
  }

  edit(rule) {
    this.editing = rule;
    this.status.clear();
    this.render();
  }

  async save(rule) {
    const changing = this.editing;
    const saved = changing ? await api.updateRule(changing.id, rule) : await api.createRule(rule);
    this.rules = changing ? this.rules.map((r) => (r.id === saved.id ? saved : r)) : [...this.rules, saved];
    this.editing = undefined;
    this.render();
    this.status.ok(t('automation.saved', { name: saved.name }));
  }

  async setActive(rule, active) {
    try {
      const saved = await api.updateRule(rule.id, { ...rule, active });
      this.rules = this.rules.map((r) => (r.id === saved.id ? saved : r));
      this.render();
      this.status.ok(t(active ? 'automation.turnedOn' : 'automation.turnedOff', { name: rule.name }));
    } catch (error) {
      this.status.fail(error);
      this.render();
    }
  }

  async remove(rule) {
    if (!confirm(t('automation.confirmDelete', { name: rule.name }))) return;
    try {
      await api.deleteRule(rule.id);
      this.rules = this.rules.filter((r) => r.id !== rule.id);
      if (this.editing?.id === rule.id) this.editing = undefined;
      this.render();
      this.status.ok(t('automation.deleted', { name: rule.name }));
    } catch (error) {
      this.status.fail(error);
    }
  }

  move(id, step) {
    const from = this.rules.findIndex((r) => r.id === id);
    const to = from + step;
    if (from < 0 || to < 0 || to >= this.rules.length) return;
    this.place(id, to);
  }

  /** Puts rule `id` at index `to` and saves the whole order; focus stays on the moved rule. */
  async place(id, to) {
    const order = this.rules.map((r) => r.id).filter((x) => x !== id);
    order.splice(to, 0, id);
    try {
      this.rules = await api.reorderRules(order);
      this.render();
      const moved = this.rules.find((r) => r.id === id);
      this.list.querySelector(`li[data-id="${id}"]`)?.focus();
      this.status.ok(t('automation.moved', { name: moved.name, position: to + 1 }));
    } catch (error) {
      this.status.fail(error);
    }
  }

  /** "Try on a ticket": the server's verdict per rule, and the ticket as it stands. */
  trialPanel() {
    const ticket = el('input', { attrs: { type: 'number', min: 1, inputmode: 'numeric', required: true } });
    ticket.value = this.trialTicket ?? '';
    const trigger = el('select', {}, TRIGGERS.map((key) => el('option', { text: t(`automation.trigger.${key}`), attrs: { value: key } })));
    trigger.value = this.trialTrigger ?? 'message_received';
    const result = el('div', { class: 'trial-result', attrs: { 'aria-live': 'polite' } });
    const error = el('p', { class: 'form-error', attrs: { role: 'alert' } });
    const form = el('form', { class: 'card trial', attrs: { 'aria-labelledby': 'trial-title', novalidate: true } },
      el('h2', { text: t('automation.trial.title'), attrs: { id: 'trial-title' } }),
      el('p', { class: 'hint', text: t('automation.trial.hint') }),
      el('div', { class: 'trial-fields' }, field(t('automation.trial.ticket'), ticket), field(t('automation.trigger'), trigger),
        el('button', { class: 'primary', text: t('automation.trial.run'), attrs: { type: 'submit' } })),
      error, result);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      this.trialTicket = ticket.value;
      this.trialTrigger = trigger.value;
      const ticketId = Number(ticket.value);
      if (!Number.isInteger(ticketId) || ticketId < 1) {
        error.textContent = t('automation.trial.badTicket');
        return;
      }
      try {
        const [verdicts, summary] = await Promise.all([api.trialRules(ticketId, trigger.value), api.ticket(ticketId)]);
        result.replaceChildren(this.trialResult(summary, verdicts, trigger.value));
      } catch (failure) {
        result.replaceChildren();
        error.textContent = t('console.failed', { message: failure.message });
      }
    });
    return form;
  }

  trialResult(ticket, verdicts, trigger) {
    const yes = (value, good) => el('span', { class: `label${value ? (good ? ' ok' : '') : ''}`, text: t(value ? 'automation.yes' : 'automation.no') });
    const facts = el('dl', { class: 'trial-ticket', attrs: { 'aria-label': t('automation.trial.ticketNow', { id: ticket.id }) } },
      el('dt', { text: t('automation.trial.contact') }), el('dd', { text: ticket.contact?.displayName ?? '' }),
      el('dt', { text: t('automation.status') }), el('dd', { text: t(`status.${ticket.status}`) }),
      el('dt', { text: t('automation.priority') }), el('dd', { text: t(`priority.${ticket.priority}`) }),
      el('dt', { text: t('automation.trial.tags') }), el('dd', { text: (ticket.tags ?? []).join(', ') || '—' }));
    const rows = verdicts.map((v) => el('tr', {},
      el('td', { text: v.name }), el('td', {}, yes(v.matches, false)),
      el('td', {}, yes(v.fires, true), v.stops ? el('span', { class: 'label warn', text: t('automation.stops') }) : null,
        v.active ? null : el('span', { class: 'label', text: t('automation.off') }))));
    const table = el('table', { class: 'data' },
      el('caption', { text: t('automation.trial.caption', { id: ticket.id, trigger: t(`automation.trigger.${trigger}`) }) }),
      el('thead', {}, el('tr', {}, [t('automation.rule'), t('automation.trial.matches'), t('automation.trial.fires')].map((label) => el('th', { text: label, attrs: { scope: 'col' } })))),
      el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { class: 'empty', text: t('automation.trial.noRules'), attrs: { colspan: 3 } }))));
    return el('div', {}, el('h3', { text: t('automation.trial.ticketNow', { id: ticket.id }) }), facts, table);
  }
}
customElements.define('console-automation', AutomationSection);
