// Automation › Fields and views: the custom fields tickets and contacts carry (text, number,
// date, or a choice among options; deleted with their values unless a rule or a view uses them) and the saved ticket views shared with the whole team (a
// name and a ticket-list filter, e.g. status=open&tag=vip; an agent's own views stay theirs).
import { el } from '../../dom.js';
import { t } from '../../i18n.js';
import { dataTable, field, statusLine } from '../ui.js';
import { automationApi as api } from './api.js';

const TYPES = ['text', 'number', 'date', 'select'];

class AutomationFieldsViews extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.load();
  }

  async load() {
    try {
      [this.fields, this.views] = await Promise.all([api.fields(), api.views()]);
    } catch (error) {
      this.replaceChildren(el('p', { class: 'form-error', text: t('console.failed', { message: error.message }), attrs: { role: 'alert' } }));
      return;
    }
    this.render();
  }

  relabel() { if (this.fields) this.render(); }

  async act(call, message) {
    this.status.clear();
    try {
      await call();
      [this.fields, this.views] = await Promise.all([api.fields(), api.views()]);
      this.render();
      this.status.ok(message);
    } catch (error) {
      this.status.fail(error);
    }
  }

  /** Deletes a field and its values after a confirm; one a rule or a view uses is refused (the API says which). */
  deleteField(f) {
    if (!confirm(t('automation.fields.confirmDelete', { label: f.label }))) return;
    this.act(() => api.deleteField(f.id), t('automation.deleted', { name: f.label }));
  }

  render() {
    const key = el('input', { attrs: { type: 'text', required: true, spellcheck: 'false', pattern: '[a-z][a-z0-9_]{0,39}' } });
    const label = el('input', { attrs: { type: 'text', required: true } });
    const scope = el('select', {}, ['ticket', 'contact'].map((s) => el('option', { text: t(`automation.fields.scope.${s}`), attrs: { value: s } })));
    const type = el('select', {}, TYPES.map((s) => el('option', { text: t(`automation.fields.type.${s}`), attrs: { value: s } })));
    const options = el('input', { attrs: { type: 'text' } });
    const optionsField = field(t('automation.fields.options'), options, t('automation.fields.options.hint'));
    const syncType = () => { optionsField.hidden = type.value !== 'select'; };
    type.addEventListener('change', syncType);
    syncType();
    const fieldForm = el('form', { class: 'card', attrs: { 'aria-labelledby': 'field-add-title', novalidate: true } },
      el('h3', { text: t('automation.fields.add'), attrs: { id: 'field-add-title' } }),
      field(t('automation.fields.label'), label), field(t('automation.fields.key'), key, t('automation.fields.key.hint')),
      field(t('automation.fields.scope'), scope), field(t('automation.fields.type'), type), optionsField,
      el('button', { class: 'primary', text: t('automation.fields.save'), attrs: { type: 'submit' } }));
    fieldForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const body = { key: key.value.trim(), label: label.value.trim(), scope: scope.value, type: type.value };
      if (type.value === 'select') body.options = options.value.split(',').map((o) => o.trim()).filter(Boolean);
      this.act(() => api.addField(body), t('automation.fields.added', { label: body.label }));
    });

    const name = el('input', { attrs: { type: 'text', required: true, maxlength: 100 } });
    const filter = el('input', { attrs: { type: 'text', required: true, spellcheck: 'false', placeholder: 'status=open&tag=vip' } });
    const viewForm = el('form', { class: 'card', attrs: { 'aria-labelledby': 'view-add-title', novalidate: true } },
      el('h3', { text: t('automation.views.add'), attrs: { id: 'view-add-title' } }),
      field(t('automation.views.name'), name), field(t('automation.views.filter'), filter, t('automation.views.filter.hint')),
      el('button', { class: 'primary', text: t('automation.views.save'), attrs: { type: 'submit' } }));
    viewForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const body = { name: name.value.trim(), filter: filter.value.trim(), shared: true };
      this.act(() => api.addView(body), t('automation.views.added', { name: body.name }));
    });
    const shared = this.views.filter((v) => v.shared && /^\d+$/.test(String(v.id)));

    this.replaceChildren(
      this.status,
      el('h2', { text: t('automation.fields') }),
      dataTable({ caption: t('automation.fields.caption'), rows: this.fields, empty: t('automation.fields.none'), columns: [
        { label: t('automation.fields.label'), value: (f) => f.label },
        { label: t('automation.fields.key'), value: (f) => f.key },
        { label: t('automation.fields.scope'), value: (f) => t(`automation.fields.scope.${f.scope ?? 'ticket'}`) },
        { label: t('automation.fields.type'), value: (f) => t(`automation.fields.type.${f.type}`) },
        { label: t('automation.fields.options'), value: (f) => (f.options ?? []).join(', ') },
        { label: t('automation.actionsColumn'), value: (f) => el('button', { text: t('automation.delete'),
          attrs: { type: 'button', 'aria-label': t('automation.deleteOf', { name: f.label }) }, on: { click: () => this.deleteField(f) } }) },
      ] }),
      fieldForm,
      el('h2', { text: t('automation.views') }),
      dataTable({ caption: t('automation.views.caption'), rows: shared, empty: t('automation.views.none'), columns: [
        { label: t('automation.views.name'), value: (v) => v.name },
        { label: t('automation.views.filter'), value: (v) => el('code', { class: 'mono', text: v.filter }) },
        { label: t('automation.actionsColumn'), value: (v) => el('button', { text: t('automation.delete'),
          attrs: { type: 'button', 'aria-label': t('automation.deleteOf', { name: v.name }) },
          on: { click: () => this.act(() => api.deleteView(v.id), t('automation.deleted', { name: v.name })) } }) },
      ] }),
      viewForm);
  }
}
customElements.define('automation-fields-views', AutomationFieldsViews);
