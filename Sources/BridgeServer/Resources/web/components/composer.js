// The composer: a reply to the customer or an internal note, for the open ticket only. The draft
// lives in the store per ticket (so switching tickets never carries text across, and a sign-in in
// the middle keeps it). A reply goes with the ticket's version; a 409 ticket_changed shows the
// newer messages (the store reloads them) and asks: send anyway, or discard.
import { el } from '../dom.js';
import { t } from '../i18n.js';

export class ReplyComposer extends HTMLElement {
  connectedCallback() {
    if (this.built) return;
    this.built = true;
    const radio = (mode) => {
      const input = el('input', { attrs: { type: 'radio', name: 'composer-mode', value: mode, id: `composer-${mode}` } });
      input.addEventListener('change', () => this.setMode(mode));
      const label = el('label', { class: 'mode', attrs: { for: `composer-${mode}` } });
      return { input, label };
    };
    this.modes = { reply: radio('reply'), note: radio('note') };
    this.legend = el('legend', { class: 'visually-hidden' });
    this.text = el('textarea', { attrs: { id: 'composer-text', rows: 3 } });
    this.label = el('label', { class: 'visually-hidden', attrs: { for: 'composer-text' } });
    this.send = el('button', { class: 'primary', attrs: { type: 'submit' } });
    this.hint = el('span', { class: 'hint' });
    this.alert = el('div', { class: 'composer-alert', attrs: { role: 'alert' } });
    this.form = el('form', { class: 'composer' },
      el('fieldset', { class: 'modes' }, this.legend, this.modes.reply.input, this.modes.reply.label, this.modes.note.input, this.modes.note.label),
      this.label, this.text, this.alert,
      el('div', { class: 'composer-foot' }, this.hint, this.send));
    this.form.addEventListener('submit', (event) => { event.preventDefault(); this.submit(false); });
    this.text.addEventListener('input', () => {
      if (this.ticketId == null) return;
      this.store.setDraft(this.ticketId, { text: this.text.value });
      if (this.mode === 'reply') this.live?.typing(this.ticketId);
    });
    this.text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); this.submit(false); }
      if (event.key === 'Escape') this.text.blur();
    });
    this.replaceChildren(this.form);
    this.relabel();
  }

  relabel() {
    if (!this.built) return;
    this.legend.textContent = t('composer.mode');
    this.modes.reply.label.textContent = t('composer.reply');
    this.modes.note.label.textContent = t('composer.note');
    this.hint.textContent = t('composer.hint');
    this.applyMode();
  }

  /** Shows the draft of another ticket (or none). */
  show(ticketId) {
    if (ticketId === this.ticketId) return;
    this.ticketId = ticketId;
    this.alert.replaceChildren();
    const draft = ticketId == null ? { mode: 'reply', text: '' } : this.store.draft(ticketId);
    this.text.value = draft.text;
    this.mode = draft.mode;
    this.applyMode();
  }

  setMode(mode) {
    this.mode = mode;
    if (this.ticketId != null) this.store.setDraft(this.ticketId, { mode });
    this.applyMode();
  }

  applyMode() {
    const mode = this.mode ?? 'reply';
    this.modes[mode].input.checked = true;
    this.form.classList.toggle('note-mode', mode === 'note');
    this.label.textContent = mode === 'note' ? t('composer.noteLabel') : t('composer.replyLabel');
    this.text.placeholder = this.label.textContent;
    this.send.textContent = mode === 'note' ? t('composer.addNote') : t('composer.send');
  }

  /** r / n: focus the text in that mode. */
  focusMode(mode) {
    this.setMode(mode);
    this.text.focus();
  }

  async submit(force) {
    const ticketId = this.ticketId;
    const text = this.text.value;
    const mode = this.mode ?? 'reply';
    if (ticketId == null || !text.trim() || this.busy) return;
    this.busy = true;
    this.send.disabled = true;
    this.send.textContent = t('composer.sending');
    this.alert.replaceChildren();
    try {
      if (mode === 'note') await this.store.note(ticketId, text);
      else await this.store.reply(ticketId, text, force);
      this.store.clearDraft(ticketId);
      if (this.ticketId === ticketId) this.text.value = '';
    } catch (error) {
      if (this.ticketId === ticketId) this.showError(error);
    } finally {
      this.busy = false;
      this.send.disabled = false;
      this.applyMode();
    }
  }

  showError(error) {
    if (error.status === 409 && error.code === 'ticket_changed') {
      this.alert.replaceChildren(
        el('p', { text: t('composer.conflict') }),
        el('button', { text: t('composer.sendAnyway'), attrs: { type: 'button' }, on: { click: () => this.submit(true) } }),
        el('button', { text: t('composer.discard'), attrs: { type: 'button' }, on: { click: () => this.discard() } }));
    } else if (error.code === 'forbidden_words') {
      this.alert.replaceChildren(el('p', { text: t('composer.forbidden', { words: error.message }) }));
    } else if (error.status !== 401) {
      this.alert.replaceChildren(el('p', { text: t('composer.failed', { message: error.message }) }));
    }
  }

  discard() {
    if (this.ticketId == null) return;
    this.store.clearDraft(this.ticketId);
    this.text.value = '';
    this.alert.replaceChildren();
    this.text.focus();
  }
}
customElements.define('reply-composer', ReplyComposer);
