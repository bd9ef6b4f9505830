// Automation › Replies and words: the canned responses everyone may use (global or a
// department's; an agent's own stay theirs, in the inbox), added and edited in one form, the
// forbidden words checked in drafts, and the spam filter's state with its threshold (set here, in
// the database, or bridge.yaml's; agents train the filter).
import { el } from '../../dom.js';
import { formatNumber, t } from '../../i18n.js';
import { dataTable, field, statusLine } from '../ui.js';
import { automationApi as api } from './api.js';

class AutomationReplies extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.load();
  }

  async load() {
    try {
      [this.canned, this.words, this.departments, this.spam] = await Promise.all([
        api.cannedResponses(), api.forbiddenWords(), api.departments(), api.spam()]);
    } catch (error) {
      this.replaceChildren(el('p', { class: 'form-error', text: t('console.failed', { message: error.message }), attrs: { role: 'alert' } }));
      return;
    }
    this.render();
  }

  relabel() { if (this.canned) this.render(); }

  async act(call, message) {
    this.status.clear();
    try {
      await call();
      [this.canned, this.words] = await Promise.all([api.cannedResponses(), api.forbiddenWords()]);
      this.render();
      this.status.ok(message);
    } catch (error) {
      this.status.fail(error);
    }
  }

  /** Opens the canned-response form filled in with `canned` (null: the empty form to add one). */
  edit(canned) {
    this.editing = canned;
    this.status.clear();
    this.render();
    this.querySelector('#canned-form-title')?.scrollIntoView({ block: 'nearest' });
    this.querySelector('#canned-form-title + .field input')?.focus();
  }

  render() {
    const shared = this.canned.filter((c) => c.agentId == null);
    const department = (id) => this.departments.find((d) => d.id === id)?.name ?? '';
    const editing = this.editing && shared.find((c) => c.id === this.editing.id);
    this.editing = editing ?? null;
    const shortcut = el('input', { attrs: { type: 'text', required: true, spellcheck: 'false', placeholder: '#refund' } });
    const title = el('input', { attrs: { type: 'text' } });
    const text = el('textarea', { attrs: { rows: 3, required: true } });
    const scope = el('select', {}, el('option', { text: t('automation.canned.everyone'), attrs: { value: '' } }),
      this.departments.map((d) => el('option', { text: d.name, attrs: { value: d.id } })));
    if (editing) {
      shortcut.value = `#${editing.shortcut}`;
      title.value = editing.title ?? '';
      text.value = editing.text;
      scope.value = editing.departmentId ? String(editing.departmentId) : '';
    }
    const heading = editing ? t('automation.canned.edit', { shortcut: `#${editing.shortcut}` }) : t('automation.canned.add');
    const cannedForm = el('form', { class: 'card', attrs: { 'aria-labelledby': 'canned-form-title', novalidate: true } },
      el('h3', { text: heading, attrs: { id: 'canned-form-title' } }),
      field(t('automation.canned.shortcut'), shortcut, t('automation.canned.shortcut.hint')),
      field(t('automation.canned.title'), title),
      field(t('automation.canned.text'), text, t('automation.reply.text.hint')),
      field(t('automation.canned.for'), scope),
      el('div', { class: 'form-actions' },
        el('button', { class: 'primary', text: editing ? t('automation.canned.update') : t('automation.canned.save'), attrs: { type: 'submit' } }),
        editing ? el('button', { text: t('automation.canned.cancel'), attrs: { type: 'button' }, on: { click: () => this.edit(null) } }) : null));
    cannedForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const departmentId = scope.value ? Number(scope.value) : null;
      if (editing) {
        const body = { shortcut: shortcut.value.trim(), title: title.value.trim(), text: text.value, departmentId };
        this.act(async () => { await api.updateCannedResponse(editing.id, body); this.editing = null; },
          t('automation.canned.updated', { shortcut: body.shortcut }));
        return;
      }
      const body = { shortcut: shortcut.value.trim(), text: text.value, mine: false };
      if (title.value.trim()) body.title = title.value.trim();
      if (departmentId) body.departmentId = departmentId;
      this.act(() => api.addCannedResponse(body), t('automation.canned.added', { shortcut: body.shortcut }));
    });
    const word = el('input', { attrs: { type: 'text', required: true, maxlength: 100 } });
    const wordForm = el('form', { class: 'inline-row', attrs: { 'aria-label': t('automation.words.add'), novalidate: true } },
      field(t('automation.words.word'), word), el('button', { text: t('automation.words.add'), attrs: { type: 'submit' } }));
    wordForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = word.value.trim();
      this.act(() => api.addForbiddenWord(value), t('automation.words.added', { word: value }));
    });
    this.replaceChildren(
      this.status,
      el('h2', { text: t('automation.canned') }),
      dataTable({ caption: t('automation.canned.caption'), rows: shared, empty: t('automation.canned.none'), columns: [
        { label: t('automation.canned.shortcut'), value: (c) => c.shortcut },
        { label: t('automation.canned.title'), value: (c) => c.title },
        { label: t('automation.canned.text'), value: (c) => c.text },
        { label: t('automation.canned.for'), value: (c) => (c.departmentId ? department(c.departmentId) : t('automation.canned.everyone')) },
        { label: t('automation.actionsColumn'), value: (c) => el('span', { class: 'row-buttons' },
          el('button', { text: t('automation.edit'), attrs: { type: 'button', 'aria-label': t('automation.editOf', { name: c.shortcut }) },
            on: { click: () => this.edit(c) } }),
          el('button', { text: t('automation.delete'), attrs: { type: 'button', 'aria-label': t('automation.deleteOf', { name: c.shortcut }) },
            on: { click: () => this.act(() => api.deleteCannedResponse(c.id), t('automation.deleted', { name: c.shortcut })) } })) },
      ] }),
      cannedForm,
      el('h2', { text: t('automation.words') }),
      el('p', { class: 'hint', text: t('automation.words.hint') }),
      el('ul', { class: 'word-list', attrs: { 'aria-label': t('automation.words') } },
        this.words.length ? this.words.map((w) => el('li', {}, el('span', { text: w }),
          el('button', { text: '×', attrs: { type: 'button', 'aria-label': t('automation.deleteOf', { name: w }) },
            on: { click: () => this.act(() => api.deleteForbiddenWord(w), t('automation.deleted', { name: w })) } })))
          : el('li', { class: 'hint', text: t('automation.words.none') })),
      wordForm,
      this.spamPart());
  }

  /**
   * The spam filter: its state and training (agents' marks), and its threshold, set here for every
   * bridge process (in percent on the page, a fraction in the API) or left to bridge.yaml's.
   */
  spamPart() {
    const s = this.spam;
    const percent = (fraction) => formatNumber(Math.round(fraction * 1000) / 10);
    const needed = Math.max(0, s.minimumTraining - s.spamTickets) + Math.max(0, s.minimumTraining - s.hamTickets);
    const fromConsole = s.thresholdSource === 'console';
    const input = el('input', { attrs: { type: 'number', min: '50.1', max: '100', step: '0.1', required: true, inputmode: 'decimal' } });
    input.value = String(Math.round(s.threshold * 1000) / 10);
    const save = (threshold) => this.act(async () => { this.spam = await api.setSpamThreshold(threshold); },
      t('automation.spam.saved', { value: percent(threshold ?? s.configuredThreshold) }));
    const form = el('form', { class: 'inline-row spam-threshold', attrs: { 'aria-label': t('automation.spam.thresholdForm'), novalidate: true } },
      field(t('automation.spam.thresholdInput'), input, t('automation.spam.thresholdInput.hint')),
      el('button', { class: 'primary', text: t('automation.spam.save'), attrs: { type: 'submit' } }),
      fromConsole ? el('button', { text: t('automation.spam.reset', { value: percent(s.configuredThreshold) }), attrs: { type: 'button' },
        on: { click: () => save(null) } }) : null);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      save(Math.round(Number(input.value) * 10) / 1000);
    });
    return el('section', { attrs: { 'aria-labelledby': 'spam-title' } },
      el('h2', { text: t('automation.spam'), attrs: { id: 'spam-title' } }),
      el('dl', { class: 'trial-ticket', attrs: { 'aria-label': t('automation.spam') } },
        el('dt', { text: t('automation.spam.state') }),
        el('dd', {}, el('span', { class: `label ${s.active ? 'ok' : 'warn'}`, text: s.active ? t('automation.spam.active') : t('automation.spam.learning', { count: needed }) })),
        el('dt', { text: t('automation.spam.threshold') }),
        el('dd', { text: `${percent(s.threshold)}% (${fromConsole ? t('automation.spam.source.console') : t('automation.spam.source.config')})` }),
        el('dt', { text: t('automation.spam.trained') }),
        el('dd', { text: t('automation.spam.counts', { spam: s.spamTickets, ham: s.hamTickets, minimum: s.minimumTraining }) })),
      form,
      el('p', { class: 'hint', text: t('automation.spam.hint') }));
  }
}
customElements.define('automation-replies', AutomationReplies);
