// One modal <dialog> shape for every ticket action that needs input (transfer, resolve, tags,
// merge, split, link). The form's fields are built by the caller; `submit` does the API call and
// may throw: the error is shown in the dialog, which stays open, so nothing typed is lost.
import { el } from '../dom.js';
import { t } from '../i18n.js';

let counter = 0;

/** A labelled control: el('label') + control, with a generated id. */
export function field(labelText, control) {
  const id = control.id || `f${++counter}`;
  control.id = id;
  return el('div', { class: 'field' }, el('label', { text: labelText, attrs: { for: id } }), control);
}

export function select(options, value) {
  const node = el('select', {}, options.map(([v, label]) => el('option', { text: label, attrs: { value: v } })));
  if (value !== undefined) node.value = value;
  return node;
}

/**
 * openDialog({title, fields: [nodes], submitLabel, submit: async () => {...}, danger}) resolves to
 * true when the action succeeded, false when cancelled.
 */
export function openDialog({ title, fields, submitLabel, submit, danger = false }) {
  return new Promise((resolve) => {
    const titleId = `dlg${++counter}`;
    const error = el('p', { class: 'form-error', attrs: { role: 'alert' } });
    const ok = el('button', { class: danger ? 'primary danger' : 'primary', text: submitLabel, attrs: { type: 'submit' } });
    const cancel = el('button', { text: t('dialog.cancel'), attrs: { type: 'button' } });
    const form = el('form', { class: 'dialog-form' }, ...fields, error, el('div', { class: 'dialog-foot' }, cancel, ok));
    const dialog = el('dialog', { class: 'action-dialog', attrs: { 'aria-labelledby': titleId } },
      el('h2', { text: title, attrs: { id: titleId } }), form);
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener('click', () => finish(false));
    // Enter on a closed <select> submits, as it does in a text field (keyboard-only use).
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && event.target.tagName === 'SELECT') { event.preventDefault(); form.requestSubmit(ok); }
    });
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); finish(false); });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      ok.disabled = true;
      try {
        await submit();
        finish(true);
      } catch (failure) {
        if (failure?.status !== 401) error.textContent = failure?.message ?? String(failure);
      } finally {
        ok.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = form.querySelector('input, select, textarea');
    (first ?? ok).focus();
  });
}
