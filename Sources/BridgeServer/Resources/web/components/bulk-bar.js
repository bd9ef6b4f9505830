// Mass actions on the tickets selected in the list (checkboxes, shift-click for a range, `x`):
// resolve (with a reason), assign (agent or department), tag — one POST /tickets/bulk each. A ticket
// the server could not change stays selected and the bar says how many failed.
import { el } from '../dom.js';
import { t } from '../i18n.js';
import { field, openDialog, select } from './dialog.js';
import { RESOLUTION_REASONS } from './ticket-actions.js';

export class BulkBar extends HTMLElement {
  set store(store) {
    this._store = store;
    store.addEventListener('change', (event) => { if (['selection', 'list'].includes(event.detail.what)) this.render(); });
  }

  connectedCallback() {
    this.setAttribute('role', 'toolbar');
    this.render();
  }

  render() {
    const store = this._store;
    if (!store) return;
    const count = [...store.selected].filter((id) => store.list.ids.includes(id)).length;
    this.hidden = count === 0;
    this.setAttribute('aria-label', t('bulk.label'));
    if (!count) { this.replaceChildren(); this.result = null; return; }
    const button = (label, run) => el('button', { text: t(label), attrs: { type: 'button' }, on: { click: run } });
    this.replaceChildren(...[
      el('span', { class: 'bulk-count', text: t('bulk.count', { count }), attrs: { role: 'status' } }),
      button('action.resolve', () => this.resolve()),
      button('bulk.assign', () => this.assign()),
      button('bulk.tag', () => this.tag()),
      el('span', { class: 'spacer' }),
      this.result ? el('span', { class: 'bulk-result', text: this.result }) : null,
      el('button', { class: 'quiet', text: t('bulk.clear'), attrs: { type: 'button' }, on: { click: () => store.clearSelection() } }),
    ].filter(Boolean));
  }

  async apply(action) {
    const result = await this._store.bulk(action);
    this.result = result.failed ? t('bulk.failed', { count: result.failed, message: result.items.find((i) => !i.ok)?.error?.message ?? '' }) : null;
    this.render();
  }

  resolve() {
    const reason = select([['', t('resolve.noReason')], ...RESOLUTION_REASONS.map((r) => [r, t(`reason.${r}`)])], '');
    return openDialog({
      title: t('bulk.resolveTitle', { count: this._store.selected.size }),
      fields: [field(t('resolve.reason'), reason)],
      submitLabel: t('action.resolve'),
      submit: () => this.apply({ changes: { status: 'resolved', ...(reason.value ? { resolutionReason: reason.value } : {}) } }),
    });
  }

  assign() {
    const store = this._store;
    const target = el('select', {},
      store.departments.length ? el('optgroup', { attrs: { label: t('transfer.departments') } }, store.departments.map((d) => el('option', { text: d.name, attrs: { value: `d${d.id}` } }))) : null,
      el('optgroup', { attrs: { label: t('transfer.agents') } }, [...store.agents.values()].filter((a) => typeof a.id === 'number' && a.active !== false)
        .map((a) => el('option', { text: a.id === store.me?.id ? `${a.name} (${t('list.you')})` : a.name, attrs: { value: `a${a.id}` } }))));
    const note = el('textarea', { attrs: { rows: 2, maxlength: 4096 } });
    return openDialog({
      title: t('bulk.assignTitle', { count: store.selected.size }),
      fields: [field(t('transfer.to'), target), field(t('transfer.note'), note)],
      submitLabel: t('bulk.assign'),
      submit: () => {
        const v = target.value;
        const transfer = v.startsWith('d') ? { departmentId: Number(v.slice(1)) } : { agentId: Number(v.slice(1)) };
        if (note.value.trim()) transfer.note = note.value;
        return this.apply({ transfer });
      },
    });
  }

  tag() {
    const input = el('input', { attrs: { type: 'text', autocomplete: 'off', placeholder: t('tags.placeholder') } });
    return openDialog({
      title: t('bulk.tagTitle', { count: this._store.selected.size }),
      fields: [field(t('tags.add'), input)],
      submitLabel: t('bulk.tag'),
      submit: () => {
        const tags = input.value.split(/[,\s]+/).map((s) => s.replace(/^#/, '').trim().toLowerCase()).filter(Boolean);
        if (!tags.length) throw new Error(t('tags.pick'));
        return this.apply({ changes: { addTags: tags } });
      },
    });
  }
}
customElements.define('bulk-bar', BulkBar);
