// The console's People section: the agents (add one with a password; change role, departments,
// maximum tickets and restrictions; reset a password; end every session and token; deactivate,
// which keeps the agent's name on its history), the departments with their own business hours,
// which department each channel account's new tickets go to, and the default business hours
// with their holidays. Every change goes through the public API, which checks who may do it (an
// admin cannot touch an owner, nobody deactivates the last owner) and says why in its error.
import { el } from '../../dom.js';
import { formatTime, t, useCatalogue } from '../../i18n.js';
import { copyButton, dataTable, field, pageHead, statusLine } from '../ui.js';
import { peopleApi as api } from './api.js';
import { hoursForm } from './hours-form.js';
import { routingPart } from './routing.js';

await useCatalogue((code) => import(`./i18n/${code}.js`).then((m) => m.default));

const ROLES = ['agent', 'admin', 'owner'];
const input = (type, value, attrs = {}) => { const node = el('input', { attrs: { type, ...attrs } }); node.value = value ?? ''; return node; };
const checkbox = (checked) => { const node = el('input', { attrs: { type: 'checkbox' } }); node.checked = Boolean(checked); return node; };
const roleSelect = (current) => { const node = el('select', {}, ROLES.map((role) => el('option', { text: t(`people.role.${role}`), attrs: { value: role } }))); node.value = current; return node; };

class PeopleSection extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.editing = null;   // the agent being changed
    this.adding = false;
    this.load();
  }

  async load() {
    try {
      [this.agents, this.departments, this.hours, this.accounts] = await Promise.all([api.agents(), api.departments(), api.hours(), api.channelAccounts()]);
    } catch (error) {
      this.replaceChildren(el('p', { class: 'form-error', text: t('console.failed', { message: error.message }), attrs: { role: 'alert' } }));
      return;
    }
    this.render();
  }

  relabel() { if (this.agents) this.render(); }

  async refresh(message) {
    [this.agents, this.departments, this.accounts] = await Promise.all([api.agents(), api.departments(), api.channelAccounts()]);
    if (this.editing) this.editing = this.agents.find((a) => a.id === this.editing.id) ?? null;
    this.render();
    if (message) this.status.ok(message);
  }

  /** Runs an API call, then reloads and says what happened (or the API's reason it did not). */
  async act(call, message) {
    this.status.clear();
    try {
      await call();
      await this.refresh(message);
    } catch (error) {
      this.status.fail(error);
    }
  }

  render() {
    const departmentName = (id) => this.departments.find((d) => d.id === id)?.name ?? `#${id}`;
    const agentsTable = dataTable({
      caption: t('people.agents'),
      columns: [
        { label: t('people.name'), value: (a) => a.name },
        { label: t('people.email'), value: (a) => a.email },
        { label: t('people.role'), value: (a) => t(`people.role.${a.role}`) },
        { label: t('people.departments'), value: (a) => a.departments.map(departmentName).join(', ') },
        { label: t('people.maxTickets'), value: (a) => a.maxTickets, numeric: true },
        { label: t('people.state'), value: (a) => el('span', { class: `label${a.active ? ' ok' : ''}`, text: t(a.active ? 'people.active' : 'people.deactivated') }) },
        { label: t('people.actions'), value: (a) => el('button', { text: t('people.edit'), attrs: { type: 'button', 'aria-label': t('people.editOf', { name: a.name }) },
          on: { click: () => { this.editing = a; this.adding = false; this.invite = null; this.status.clear(); this.render(); } } }) },
      ],
      rows: this.agents,
    });
    const add = el('button', { class: 'primary', text: t('people.add'), attrs: { type: 'button' },
      on: { click: () => { this.adding = true; this.editing = null; this.render(); } } });
    this.replaceChildren(...[
      pageHead(t('people.title'), add),
      this.adding ? this.addForm() : null,
      this.editing ? this.agentPanel(this.editing) : null,
      this.status,
      el('div', { class: 'table-scroll' }, agentsTable),
      this.departmentsPart(),
      this.hoursOf ? this.departmentHoursPanel(this.hoursOf) : null,
      routingPart(this.accounts, this.departments, (account, departmentId) => this.act(() => api.routeAccount(account, departmentId),
        departmentId ? t('people.routing.done', { account: account.key, department: this.departments.find((d) => d.id === departmentId)?.name })
          : t('people.routing.none.done', { account: account.key }))),
      hoursForm(this.hours, async (hours) => {
        this.hours = await api.setHours(hours);
        this.status.ok(t('people.hours.saved'));
      }),
    ].filter(Boolean));
    if (this.adding || this.editing) this.querySelector('.people-form input')?.focus();
  }

  departmentBoxes(chosen) {
    const boxes = this.departments.map((d) => [d.id, checkbox(chosen.includes(d.id))]);
    const set = el('fieldset', { class: 'departments' }, el('legend', { text: t('people.departments') }),
      boxes.length ? boxes.map(([id, box]) => el('label', { class: 'check' }, box, el('span', { text: this.departments.find((d) => d.id === id).name })))
        : el('p', { class: 'hint', text: t('people.noDepartments') }));
    set.read = () => boxes.filter(([, box]) => box.checked).map(([id]) => id);
    return set;
  }

  addForm() {
    const name = input('text', '', { required: true, maxlength: 100, autocomplete: 'off' });
    const email = input('email', '', { required: true, autocomplete: 'off' });
    const role = roleSelect('agent');
    const password = input('password', '', { minlength: 8, autocomplete: 'new-password' });
    const max = input('number', '5', { min: 0, max: 500 });
    const departments = this.departmentBoxes([]);
    const error = el('p', { class: 'form-error', attrs: { role: 'alert' } });
    const form = el('form', { class: 'card people-form', attrs: { 'aria-labelledby': 'add-agent-title', novalidate: true } },
      el('h2', { text: t('people.add.title'), attrs: { id: 'add-agent-title' } }),
      field(t('people.name'), name), field(t('people.email'), email), field(t('people.role'), role),
      field(t('people.password'), password, t('people.password.inviteHint')),
      field(t('people.maxTickets'), max), departments, error,
      el('div', { class: 'form-actions' }, el('button', { class: 'primary', text: t('people.add.save'), attrs: { type: 'submit' } }),
        el('button', { text: t('people.cancel'), attrs: { type: 'button' }, on: { click: () => { this.adding = false; this.render(); } } })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      const agent = { name: name.value.trim(), email: email.value.trim(), role: role.value, maxTickets: Number(max.value), departments: departments.read() };
      if (password.value) agent.password = password.value;
      try {
        const made = await api.addAgent(agent);
        this.adding = false;
        // No password: the agent chooses one through an invitation link, shown in its panel.
        if (!password.value) {
          this.invite = { agentId: made.id, ...(await api.invite(made.id)) };
          this.editing = made;
        }
        await this.refresh(t('people.added', { name: made.name }));
      } catch (failure) {
        error.textContent = t('console.failed', { message: failure.message });
      }
    });
    return form;
  }

  /** One agent: settings, password, sessions, deactivation. */
  agentPanel(agent) {
    const name = input('text', agent.name, { required: true, maxlength: 100 });
    const role = roleSelect(agent.role);
    const max = input('number', String(agent.maxTickets), { min: 0, max: 500 });
    const departments = this.departmentBoxes(agent.departments);
    const departmentsOnly = checkbox(agent.departmentsOnly);
    const answerAssignedOnly = checkbox(agent.answerAssignedOnly);
    // Restrictions are for agents: an owner or admin works across every department (the API refuses both at once).
    const syncRestrictions = () => {
      const agentRole = role.value === 'agent';
      for (const box of [departmentsOnly, answerAssignedOnly]) {
        box.disabled = !agentRole;
        if (!agentRole) box.checked = false;
      }
    };
    role.addEventListener('change', syncRestrictions);
    syncRestrictions();
    const settingsError = el('p', { class: 'form-error', attrs: { role: 'alert' } });
    const settings = el('form', { class: 'people-form', attrs: { 'aria-label': t('people.settingsOf', { name: agent.name }), novalidate: true } },
      field(t('people.name'), name), field(t('people.role'), role), field(t('people.maxTickets'), max, t('people.maxTickets.hint')), departments,
      el('fieldset', {}, el('legend', { text: t('people.restrictions') }), el('p', { class: 'hint', text: t('people.restrictions.hint') }),
        el('label', { class: 'check' }, departmentsOnly, el('span', { text: t('people.departmentsOnly') })),
        el('label', { class: 'check' }, answerAssignedOnly, el('span', { text: t('people.answerAssignedOnly') }))),
      settingsError,
      el('button', { class: 'primary', text: t('people.save'), attrs: { type: 'submit' } }));
    settings.addEventListener('submit', async (event) => {
      event.preventDefault();
      settingsError.textContent = '';
      this.status.clear();
      const changes = { name: name.value.trim(), maxTickets: Number(max.value), departments: departments.read(),
        departmentsOnly: departmentsOnly.checked, answerAssignedOnly: answerAssignedOnly.checked };
      if (role.value !== agent.role) changes.role = role.value;
      try {
        await api.changeAgent(agent.id, changes);
        await this.refresh(t('people.saved', { name: changes.name }));
      } catch (failure) {
        settingsError.textContent = t('console.failed', { message: failure.message });
      }
    });

    const password = input('password', '', { minlength: 8, autocomplete: 'new-password' });
    const reset = el('form', { class: 'inline-form', attrs: { 'aria-label': t('people.resetOf', { name: agent.name }), novalidate: true } },
      field(t('people.newPassword'), password, t('people.newPassword.hint')),
      el('button', { text: t('people.reset'), attrs: { type: 'submit' } }));
    reset.addEventListener('submit', (event) => {
      event.preventDefault();
      this.act(() => api.changeAgent(agent.id, { password: password.value }), t('people.resetDone', { name: agent.name }));
    });

    const inviteButton = el('button', { text: t('people.invite.make'), attrs: { type: 'button' }, on: { click: async () => {
      this.status.clear();
      try {
        this.invite = { agentId: agent.id, ...(await api.invite(agent.id)) };
        this.render();
        this.status.ok(t('people.invite.made', { name: agent.name }));
      } catch (error) {
        this.status.fail(error);
      }
    } } });
    const invite = this.invite?.agentId === agent.id ? this.inviteLink(this.invite) : null;

    const revoke = el('button', { text: t('people.revoke'), attrs: { type: 'button' }, on: { click: () => {
      if (confirm(t('people.revoke.confirm', { name: agent.name }))) this.act(() => api.revokeTokens(agent.id), t('people.revoked', { name: agent.name }));
    } } });
    const activation = agent.active
      ? el('button', { class: 'danger', text: t('people.deactivate'), attrs: { type: 'button' }, on: { click: () => {
        if (confirm(t('people.deactivate.confirm', { name: agent.name }))) this.act(() => api.deactivate(agent.id), t('people.deactivated.done', { name: agent.name }));
      } } })
      : el('button', { text: t('people.reactivate'), attrs: { type: 'button' },
        on: { click: () => this.act(() => api.reactivate(agent.id), t('people.reactivated', { name: agent.name })) } });

    return el('section', { class: 'card agent-panel', attrs: { 'aria-labelledby': 'agent-panel-title' } },
      el('div', { class: 'panel-head' }, el('h2', { text: agent.name, attrs: { id: 'agent-panel-title' } }),
        el('span', { class: `label${agent.active ? ' ok' : ''}`, text: t(agent.active ? 'people.active' : 'people.deactivated') }),
        el('button', { text: t('people.close'), attrs: { type: 'button' }, on: { click: () => { this.editing = null; this.invite = null; this.render(); } } })),
      el('p', { class: 'hint', text: t('people.summary', { email: agent.email, count: agent.activeTickets }) }),
      settings,
      el('h3', { text: t('people.access') }),
      el('div', { class: 'form-actions' }, agent.active ? inviteButton : null),
      invite,
      reset,
      el('div', { class: 'form-actions' }, revoke, activation),
      el('p', { class: 'hint', text: t('people.deactivate.hint') }));
  }

  /** The invitation link, shown once: the token is not kept anywhere the page could show it again. */
  inviteLink(invite) {
    const url = new URL(invite.path, location.origin).href;
    const box = el('input', { attrs: { type: 'text', readonly: true, spellcheck: 'false' } });
    box.value = url;
    return el('div', { class: 'invite-link' }, field(t('people.invite.link'), box, t('people.invite.expires', { time: formatTime(invite.expiresAt) })),
      copyButton(url));
  }

  /** Loads a department's hours in force (its own, else the default) and opens its form. */
  async openDepartmentHours(department) {
    this.status.clear();
    try {
      this.hoursOf = { department, hours: await api.departmentHours(department.id) };
      this.render();
      this.querySelector(`#hours-title-department-${department.id}`)?.scrollIntoView({ block: 'nearest' });
    } catch (error) {
      this.status.fail(error);
    }
  }

  /** A department's own hours: until saved, the form starts from the default hours it follows. */
  departmentHoursPanel({ department, hours }) {
    const current = this.departments.find((d) => d.id === department.id) ?? department;
    const close = el('button', { text: t('people.close'), attrs: { type: 'button' }, on: { click: () => { this.hoursOf = null; this.render(); } } });
    const useDefault = current.ownHours
      ? el('button', { text: t('people.department.hours.useDefault'), attrs: { type: 'button' }, on: { click: () => this.act(async () => {
        await api.clearDepartmentHours(current.id);
        this.hoursOf = { department: current, hours: await api.departmentHours(current.id) };
      }, t('people.department.hours.cleared', { name: current.name })) } })
      : null;
    return hoursForm(hours, (made) => this.act(async () => {
      this.hoursOf = { department: current, hours: await api.setDepartmentHours(current.id, made) };
    }, t('people.department.hours.saved', { name: current.name })), {
      title: t('people.department.hours.title', { name: current.name }), key: `department-${current.id}`,
      hint: t(current.ownHours ? 'people.department.hours.ownHint' : 'people.department.hours.defaultHint', { name: current.name }),
      actions: [useDefault, close].filter(Boolean),
    });
  }

  departmentsPart() {
    const name = input('text', '', { required: true, maxlength: 100 });
    const form = el('form', { class: 'inline-form', attrs: { 'aria-label': t('people.department.add'), novalidate: true } },
      field(t('people.department.name'), name), el('button', { text: t('people.department.add'), attrs: { type: 'submit' } }));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = name.value.trim();
      this.act(() => api.addDepartment(value), t('people.department.added', { name: value }));
    });
    const agentName = (id) => this.agents.find((a) => a.id === id)?.name ?? `#${id}`;
    return el('section', { attrs: { 'aria-labelledby': 'departments-title' } },
      el('h2', { text: t('people.departments'), attrs: { id: 'departments-title' } }),
      dataTable({ caption: t('people.departments.caption'), rows: this.departments, columns: [
        { label: t('people.department.name'), value: (d) => d.name },
        { label: t('people.department.members'), value: (d) => d.members.map(agentName).join(', ') },
        { label: t('people.department.accounts'), value: (d) => d.accounts.join(', ') },
        { label: t('people.department.hours'), value: (d) => t(d.ownHours ? 'people.department.hours.own' : 'people.department.hours.default') },
        { label: t('people.actions'), value: (d) => el('button', { text: t('people.department.hours.edit'),
          attrs: { type: 'button', 'aria-label': t('people.department.hours.editOf', { name: d.name }) },
          on: { click: () => this.openDepartmentHours(d) } }) },
      ] }),
      form);
  }
}
customElements.define('console-people', PeopleSection);
