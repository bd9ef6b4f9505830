// The form that makes or changes a rule: what the API's rules hold (trigger, delay, conditions,
// actions in order, stop, active), each control labelled. Contact-field conditions have no control
// here yet; a rule's existing ones are kept as they are when it is changed.
import { el } from '../../dom.js';
import { t } from '../../i18n.js';
import { field } from '../ui.js';

export const TRIGGERS = ['ticket_created', 'message_received', 'status_changed', 'time_passed'];
export const ACTIONS = ['add_tag', 'assign_agent', 'assign_department', 'set_priority', 'set_status', 'reply', 'notify', 'webhook'];
const CHANNELS = ['line', 'whatsapp', 'messenger', 'instagram', 'sms', 'wechat'];
const STATUSES = ['new', 'open', 'pending', 'resolved', 'closed', 'spam'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

const option = (value, text, selected) => el('option', { text, attrs: { value, selected: selected ? true : false } });
const select = (values, current, blank) => el('select', {},
  blank ? option('', blank, current == null) : null,
  values.map(([value, text]) => option(String(value), text, String(current) === String(value))));
const input = (value, attrs = {}) => { const node = el('input', { attrs: { type: 'text', ...attrs } }); node.value = value ?? ''; return node; };
const checkbox = (checked) => { const node = el('input', { attrs: { type: 'checkbox' } }); node.checked = Boolean(checked); return node; };

/**
 * ruleForm({rule, choices: {agents, departments, webhooks}, onSave(rule) → Promise, onCancel})
 * A <form> for a new rule (`rule` null) or a change to one; `onSave` gets the rule as the API takes it.
 */
export function ruleForm({ rule, choices, onSave, onCancel }) {
  const c = rule?.conditions ?? {};
  const titleId = `rule-form-title-${rule?.id ?? 'new'}`;
  const name = input(rule?.name, { required: true, maxlength: 200 });
  const trigger = select(TRIGGERS.map((key) => [key, t(`automation.trigger.${key}`)]), rule?.trigger ?? 'message_received');
  const minutes = input(rule?.afterSeconds ? String(Math.round(rule.afterSeconds / 60)) : '', { type: 'number', min: 1, inputmode: 'numeric' });
  const minutesField = field(t('automation.afterMinutes'), minutes, t('automation.afterMinutes.hint'));
  const channelBoxes = CHANNELS.map((channel) => [channel, checkbox(c.channels?.includes(channel))]);
  const textContains = input(c.textContains);
  const textMatches = input(c.textMatches, { spellcheck: 'false' });
  const tag = input(c.tag);
  const department = select(choices.departments.map((d) => [d.id, d.name]), c.departmentId, t('automation.any'));
  const status = select(STATUSES.map((s) => [s, t(`status.${s}`)]), c.status, t('automation.any'));
  const hours = select([['inside', t('automation.hours.inside')], ['outside', t('automation.hours.outside')]], c.businessHours, t('automation.any'));
  const stop = checkbox(rule?.stop);
  const active = checkbox(rule ? rule.active : true);
  const actionList = el('ol', { class: 'rule-actions', attrs: { 'aria-label': t('automation.actions') } });
  const addAction = el('button', { text: t('automation.action.add'), attrs: { type: 'button' }, on: { click: () => {
    actionList.append(actionRow({ type: 'add_tag' }));
    renumber();
    actionList.lastElementChild.querySelector('select').focus();
  } } });
  const error = el('p', { class: 'form-error', attrs: { role: 'alert' } });

  function renumber() {
    [...actionList.children].forEach((row, index) => {
      row.querySelector('.action-number').textContent = t('automation.action.number', { n: index + 1 });
      row.querySelector('select').setAttribute('aria-label', t('automation.action.type', { n: index + 1 }));
    });
  }

  /** One action: its type and the inputs that type needs (rebuilt when the type changes). */
  function actionRow(action) {
    const type = select(ACTIONS.map((key) => [key, t(`automation.action.${key}`)]), action.type);
    const details = el('div', { class: 'action-details' });
    const remove = el('button', { text: t('automation.action.remove'), attrs: { type: 'button' } });
    const row = el('li', { class: 'rule-action' }, el('span', { class: 'action-number' }), type, details, remove);
    let read = () => ({});
    const fill = (current) => {
      const parts = [];
      const agents = choices.agents.map((a) => [a.id, a.name]);
      switch (type.value) {
        case 'add_tag': { const v = input(current.tag); parts.push(field(t('automation.tag'), v)); read = () => ({ tag: v.value.trim() || undefined }); break; }
        case 'assign_agent': { const v = select(agents, current.agentId, t('automation.choose')); parts.push(field(t('automation.agent'), v)); read = () => ({ agentId: v.value ? Number(v.value) : undefined }); break; }
        case 'assign_department': { const v = select(choices.departments.map((d) => [d.id, d.name]), current.departmentId, t('automation.choose')); parts.push(field(t('automation.department'), v)); read = () => ({ departmentId: v.value ? Number(v.value) : undefined }); break; }
        case 'set_priority': { const v = select(PRIORITIES.map((p) => [p, t(`priority.${p}`)]), current.priority ?? 'high'); parts.push(field(t('automation.priority'), v)); read = () => ({ priority: v.value }); break; }
        case 'set_status': { const v = select(STATUSES.map((s) => [s, t(`status.${s}`)]), current.status ?? 'pending'); parts.push(field(t('automation.status'), v)); read = () => ({ status: v.value }); break; }
        case 'reply': {
          const canned = input(current.canned, { spellcheck: 'false' });
          const text = el('textarea', { attrs: { rows: 3 } });
          text.value = current.text ?? '';
          parts.push(field(t('automation.reply.canned'), canned, t('automation.reply.canned.hint')), field(t('automation.reply.text'), text, t('automation.reply.text.hint')));
          read = () => ({ canned: canned.value.trim() || undefined, text: text.value.trim() ? text.value : undefined });
          break;
        }
        case 'notify': {
          const who = select(agents, null);
          who.multiple = true;
          for (const opt of who.options) opt.selected = (current.agentIds ?? []).includes(Number(opt.value));
          const text = input(current.text);
          parts.push(field(t('automation.notify.agents'), who), field(t('automation.notify.text'), text));
          read = () => ({ agentIds: [...who.selectedOptions].map((o) => Number(o.value)), text: text.value.trim() || undefined });
          break;
        }
        case 'webhook': { const v = select(choices.webhooks.map((w) => [w.id, w.url]), current.webhookId, t('automation.choose')); parts.push(field(t('automation.webhook'), v)); read = () => ({ webhookId: v.value ? Number(v.value) : undefined }); break; }
        default: break;
      }
      details.replaceChildren(...parts);
    };
    fill(action);
    type.addEventListener('change', () => fill({}));
    remove.addEventListener('click', () => { row.remove(); renumber(); addAction.focus(); });
    row.read = () => ({ type: type.value, ...read() });
    return row;
  }

  (rule?.actions ?? [{ type: 'add_tag' }]).forEach((action) => actionList.append(actionRow(action)));
  renumber();

  const syncTrigger = () => { minutesField.hidden = trigger.value !== 'time_passed'; };
  trigger.addEventListener('change', syncTrigger);
  syncTrigger();

  /** The rule as the API takes it; unset conditions are left out. */
  function read() {
    const conditions = {};
    const channels = channelBoxes.filter(([, box]) => box.checked).map(([channel]) => channel);
    if (channels.length) conditions.channels = channels;
    if (textContains.value.trim()) conditions.textContains = textContains.value.trim();
    if (textMatches.value) conditions.textMatches = textMatches.value;
    if (tag.value.trim()) conditions.tag = tag.value.trim();
    if (department.value) conditions.departmentId = Number(department.value);
    if (status.value) conditions.status = status.value;
    if (hours.value) conditions.businessHours = hours.value;
    if (c.contactFields) conditions.contactFields = c.contactFields;
    const made = { name: name.value.trim(), trigger: trigger.value, conditions,
      actions: [...actionList.children].map((row) => row.read()), stop: stop.checked, active: active.checked };
    if (trigger.value === 'time_passed' && minutes.value) made.afterSeconds = Math.round(Number(minutes.value) * 60);
    return made;
  }

  const save = el('button', { class: 'primary', text: t('automation.save'), attrs: { type: 'submit' } });
  const form = el('form', { class: 'card rule-form', attrs: { 'aria-labelledby': titleId, novalidate: true } },
    el('h2', { text: rule ? t('automation.edit.title', { name: rule.name }) : t('automation.new.title'), attrs: { id: titleId } }),
    field(t('automation.name'), name),
    field(t('automation.trigger'), trigger),
    minutesField,
    el('fieldset', {}, el('legend', { text: t('automation.conditions') }),
      el('p', { class: 'hint', text: t('automation.conditions.hint') }),
      el('fieldset', { class: 'channels' }, el('legend', { text: t('automation.channels') }),
        channelBoxes.map(([channel, box]) => el('label', { class: 'check' }, box, document.createTextNode(t(`channel.${channel}`))))),
      field(t('automation.textContains'), textContains),
      field(t('automation.textMatches'), textMatches, t('automation.textMatches.hint')),
      field(t('automation.hasTag'), tag),
      field(t('automation.department'), department),
      field(t('automation.status'), status),
      field(t('automation.hours'), hours)),
    el('fieldset', {}, el('legend', { text: t('automation.actions') }), actionList, addAction),
    el('label', { class: 'check' }, stop, document.createTextNode(t('automation.stop'))),
    el('label', { class: 'check' }, active, document.createTextNode(t('automation.active'))),
    error,
    el('div', { class: 'form-actions' }, save,
      el('button', { text: t('automation.cancel'), attrs: { type: 'button' }, on: { click: () => onCancel() } })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    save.disabled = true;
    try {
      await onSave(read());
    } catch (failure) {
      error.textContent = t('console.failed', { message: failure.message });
    } finally {
      save.disabled = false;
    }
  });
  form.focusFirst = () => name.focus();
  return form;
}
