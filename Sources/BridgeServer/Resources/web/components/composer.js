// The composer: a reply to the customer or an internal note, for the open ticket only. The draft
// lives in the store per ticket, which keeps it on the server too (so switching tickets never
// carries text across, another device shows it, and a sign-in in the middle keeps it). A reply goes with the ticket's version; a 409 ticket_changed shows the
// newer messages (the store reloads them) and asks: send anyway, or discard. Before a reply is
// sent its forbidden words are checked (POST /forbidden-words/check) and need an explicit "send
// anyway". `#shortcut` opens the canned responses, filled in for this ticket by the server.
// The channel picker appears when the contact can be answered on more than one channel; the reply
// window of the chosen channel is shown (ticket.replyWindows), with a template form on WhatsApp
// once only templates may go.
// "Attach image" opens a file picker (JPEG, PNG, GIF, WebP) with a thumbnail; the file stays in the
// page with this ticket's draft (never on the server's draft), and on send it is uploaded
// (POST /uploads) and the reply goes with the upload's public URL, the text as its caption.
import { api } from '../api.js';
import { el } from '../dom.js';
import { formatSince, t } from '../i18n.js';
import { mayAnswer } from '../access.js';

/** The image types the bridge takes (POST /uploads) and every platform sends by URL. */
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

const formatBytes = (n) => (n < 1024 * 1024 ? `${Math.max(1, Math.round(n / 1024))} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

export class ReplyComposer extends HTMLElement {
  connectedCallback() {
    clearInterval(this.clock);
    this.clock = setInterval(() => this.renderWindow(), 60000);
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
    this.channel = el('select', { class: 'composer-channel', attrs: { id: 'composer-channel' } });
    this.channelLabel = el('label', { class: 'channel-label', attrs: { for: 'composer-channel' } });
    this.channelBox = el('span', { class: 'channel-pick' }, this.channelLabel, this.channel);
    this.channel.addEventListener('change', () => { this.store.setDraft(this.ticketId, { channel: this.channel.value }); this.renderWindow(); });
    this.windowText = el('span');
    this.templateButton = el('button', { class: 'quiet', attrs: { type: 'button' }, on: { click: () => this.openTemplate() } });
    this.windowNote = el('p', { class: 'reply-window', attrs: { role: 'note' } }, this.windowText, this.templateButton);
    this.text = el('textarea', { attrs: { id: 'composer-text', rows: 3, 'aria-autocomplete': 'list', 'aria-controls': 'canned-list' } });
    this.label = el('label', { class: 'visually-hidden', attrs: { for: 'composer-text' } });
    this.cannedList = el('ul', { class: 'canned', attrs: { id: 'canned-list', role: 'listbox' } });
    this.cannedList.hidden = true;
    this.cannedList.addEventListener('mousedown', (event) => event.preventDefault());
    this.cannedList.addEventListener('click', (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) this.insertCanned(Number(option.dataset.index));
    });
    this.imageToggle = el('button', { class: 'quiet', attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'composer-image' }, on: { click: () => this.toggleImage() } });
    this.image = el('input', { attrs: { id: 'composer-image', type: 'file', accept: IMAGE_TYPES.join(',') } });
    this.imageLabel = el('label', { attrs: { for: 'composer-image' } });
    this.preview = el('img', { class: 'image-preview', attrs: { alt: '' } });
    this.imageName = el('span', { class: 'image-name' });
    this.imageClear = el('button', { class: 'quiet', attrs: { type: 'button' }, on: { click: () => this.clearImage(true) } });
    this.chosen = el('div', { class: 'image-chosen' }, this.preview, this.imageName, this.imageClear);
    this.chosen.hidden = true;
    this.imageBox = el('div', { class: 'image-pick' }, this.imageLabel, this.image, this.chosen);
    this.imageBox.hidden = true;
    this.image.addEventListener('change', () => this.pickImage(this.image.files?.[0]));
    this.send = el('button', { class: 'primary', attrs: { type: 'submit' } });
    this.hint = el('span', { class: 'hint' });
    this.alert = el('div', { class: 'composer-alert', attrs: { role: 'alert' } });
    this.readOnly = el('p', { class: 'composer-readonly' });
    this.form = el('form', { class: 'composer' },
      el('div', { class: 'composer-top' },
        el('fieldset', { class: 'modes' }, this.legend, this.modes.reply.input, this.modes.reply.label, this.modes.note.input, this.modes.note.label),
        this.channelBox),
      this.windowNote,
      this.label, el('div', { class: 'composer-text' }, this.text, this.cannedList), this.imageBox, this.alert,
      el('div', { class: 'composer-foot' }, this.imageToggle, this.hint, el('span', { class: 'spacer' }), this.send));
    this.form.addEventListener('submit', (event) => { event.preventDefault(); this.submit(); });
    this.text.addEventListener('input', () => {
      if (this.ticketId == null) return;
      this.store.setDraft(this.ticketId, { text: this.text.value });
      if (this.mode === 'reply') this.live?.typing(this.ticketId);
      this.updateCanned();
    });
    this.text.addEventListener('keydown', (event) => this.keydown(event));
    this.text.addEventListener('blur', () => this.closeCanned());
    this.replaceChildren(this.form, this.readOnly);
    this.relabel();
  }

  disconnectedCallback() { clearInterval(this.clock); }

  relabel() {
    if (!this.built) return;
    this.legend.textContent = t('composer.mode');
    this.modes.reply.label.textContent = t('composer.reply');
    this.modes.note.label.textContent = t('composer.note');
    this.hint.textContent = t('composer.hint');
    this.channelLabel.textContent = t('composer.channel');
    this.imageLabel.textContent = t('composer.imageFile');
    this.imageClear.textContent = t('composer.imageRemove');
    this.renderImage();
    this.readOnly.textContent = t('composer.readOnly');
    this.cannedList.setAttribute('aria-label', t('composer.canned'));
    this.templateButton.textContent = t('template.open');
    this.applyMode();
    this.renderChannels();
  }

  /** Shows the draft of another ticket (or none). */
  show(ticketId) {
    if (ticketId === this.ticketId) { this.renderChannels(); return; }
    this.ticketId = ticketId;
    this.forcedNote = false;
    this.alert.replaceChildren();
    this.closeCanned();
    const draft = ticketId == null ? { mode: 'reply', text: '' } : this.store.draft(ticketId);
    this.text.value = draft.text;
    this.image.value = '';
    this.imageBox.hidden = !draft.image;
    this.imageToggle.setAttribute('aria-expanded', String(!!draft.image));
    this.renderImage();
    this.mode = draft.mode;
    this.applyMode();
    this.renderChannels();
  }

  /** The ticket changed (or its contact loaded): which channels, the reply window, may we answer. */
  renderChannels() {
    if (!this.built || this.ticketId == null || !this.store) return;
    const ticket = this.store.tickets.get(this.ticketId);
    if (!ticket) return;
    const canAnswer = mayAnswer(this.store.me, ticket) && ticket.status !== 'closed';
    this.modes.reply.input.disabled = !canAnswer;
    if (!canAnswer && this.mode === 'reply') { this.forcedNote = true; this.setMode('note'); return; }
    if (canAnswer && this.forcedNote && !this.text.value) { this.forcedNote = false; this.setMode('reply'); return; }
    this.readOnly.hidden = canAnswer;
    const contact = this.store.contacts.get(ticket.contact.id);
    const channels = [...new Set((contact?.identities ?? []).filter((i) => !i.blocked).map((i) => i.channel))];
    this.channelBox.hidden = channels.length < 2 || this.mode === 'note';
    const latest = (contact?.identities ?? []).filter((i) => i.lastInboundAt).sort((a, b) => b.lastInboundAt.localeCompare(a.lastInboundAt))[0]?.channel;
    this.latestChannel = latest ?? ticket.channels.at(-1);
    if (channels.length >= 2) {
      const draft = this.store.draft(this.ticketId);
      this.channel.replaceChildren(...channels.map((c) => el('option', { text: t(`channel.${c}`), attrs: { value: c } })));
      this.channel.value = draft.channel && channels.includes(draft.channel) ? draft.channel : (latest ?? channels[0]);
    }
    this.renderWindow();
  }

  /** The channel a reply goes on: the one picked, else the one the customer last wrote on. */
  replyChannel() {
    return this.channelBox.hidden ? this.latestChannel : this.channel.value;
  }

  /** "WhatsApp: window closes in 3 h — after that only templates", from the ticket's replyWindows
   *  (closesAt: when the current way of answering ends; afterwards: what may go then). */
  renderWindow() {
    if (!this.built || this.ticketId == null) return;
    const ticket = this.store.tickets.get(this.ticketId);
    const windows = Array.isArray(ticket?.replyWindows) ? ticket.replyWindows.filter((x) => x.closesAt || x.afterwards) : [];
    const chosen = this.replyChannel();
    const w = windows.find((x) => x.channel === chosen);
    this.templatesOnly = false;
    if (!w || this.mode === 'note') { this.windowNote.hidden = true; return; }
    const now = Date.now();
    const closes = w.closesAt ? Date.parse(w.closesAt) : null;
    const open = closes != null && closes > now;
    const humanAgent = open && w.afterwards === 'closed' && (w.channel === 'messenger' || w.channel === 'instagram');
    const key = humanAgent ? 'window.humanAgent' : open ? `window.open.${w.afterwards}` : `window.shut.${w.afterwards === 'templates' ? 'templates' : 'closed'}`;
    this.windowText.textContent = t(key, { channel: t(`channel.${w.channel}`), in: open ? formatSince(new Date(now).toISOString(), closes) : '' });
    this.templatesOnly = !open && w.afterwards === 'templates';
    this.templateChannel = w.channel;
    this.templateButton.hidden = !this.templatesOnly;
    this.windowNote.classList.toggle('closed', !open);
    this.windowNote.hidden = false;
  }

  /** The template form (its own module, loaded the first time it is needed). */
  async openTemplate() {
    const { sendTemplate } = await import('./action-dialogs.js');
    sendTemplate(this.store, this.ticketId, this.templateChannel);
  }

  setMode(mode) {
    this.mode = mode;
    if (this.ticketId != null) this.store.setDraft(this.ticketId, { mode });
    this.applyMode();
    this.renderChannels();
  }

  applyMode() {
    const mode = this.mode ?? 'reply';
    this.modes[mode].input.checked = true;
    this.form.classList.toggle('note-mode', mode === 'note');
    this.label.textContent = mode === 'note' ? t('composer.noteLabel') : t('composer.replyLabel');
    this.text.placeholder = mode === 'note' ? t('composer.noteLabel') : t('composer.replyPlaceholder');
    this.send.textContent = mode === 'note' ? t('composer.addNote') : t('composer.send');
    this.imageToggle.hidden = mode === 'note';
    this.imageToggle.textContent = t('composer.attachImage');
    if (mode === 'note') this.imageBox.hidden = true;
  }

  /** r / n: focus the text in that mode. */
  focusMode(mode) {
    if (mode === 'reply' && this.modes.reply.input.disabled) return;
    this.setMode(mode);
    this.text.focus();
  }

  toggleImage() {
    const show = this.imageBox.hidden;
    this.imageBox.hidden = !show;
    this.imageToggle.setAttribute('aria-expanded', String(show));
    if (show) this.image.focus();
    else this.clearImage(false);
  }

  /** A file was chosen: kept with this ticket's draft (in the page only) if it is an image we send. */
  pickImage(file) {
    if (!file || this.ticketId == null) return;
    this.alert.replaceChildren();
    if (!IMAGE_TYPES.includes(file.type)) {
      this.image.value = '';
      this.alert.replaceChildren(el('p', { text: t('composer.imageType') }));
      return;
    }
    this.store.setDraft(this.ticketId, { image: { file } });
    this.renderImage();
  }

  /** The chosen image's thumbnail (an object URL, let go when the image changes), name and size. */
  renderImage() {
    if (!this.built) return;
    const file = this.ticketId == null ? null : this.store?.draft(this.ticketId).image?.file;
    if (this.previewFile !== file) {
      if (this.previewURL) URL.revokeObjectURL(this.previewURL);
      this.previewURL = file ? URL.createObjectURL(file) : null;
      this.previewFile = file;
      if (this.previewURL) this.preview.src = this.previewURL;
      else this.preview.removeAttribute('src');
    }
    this.chosen.hidden = !file;
    if (!file) return;
    this.preview.alt = t('composer.imagePreview', { name: file.name });
    this.imageName.textContent = t('composer.imageChosen', { name: file.name, size: formatBytes(file.size) });
    this.imageClear.setAttribute('aria-label', t('composer.imageRemoveNamed', { name: file.name }));
  }

  /** Drops the chosen image; `focus` puts the keyboard back on the picker. */
  clearImage(focus) {
    this.image.value = '';
    if (this.ticketId != null) this.store.setDraft(this.ticketId, { image: null });
    this.renderImage();
    if (focus) this.image.focus();
  }

  // Canned responses ----------------------------------------------------------------------------

  /** The canned responses' list (canned.js, loaded when `#` is first typed). */
  async updateCanned() {
    if (!this.text.value.includes('#') && !this.cannedItems) return;
    (await import('./canned.js')).updateCanned(this);
  }

  closeCanned() {
    if (!this.cannedList) return;
    this.cannedList.hidden = true;
    this.cannedItems = null;
    this.text.setAttribute('aria-expanded', 'false');
    this.text.removeAttribute('aria-activedescendant');
  }

  moveCanned(delta) { import('./canned.js').then((m) => m.moveCanned(this, delta)); }

  insertCanned(index) { import('./canned.js').then((m) => m.insertCanned(this, index)); }

  keydown(event) {
    if (this.cannedItems) {
      const keys = { ArrowDown: () => this.moveCanned(1), ArrowUp: () => this.moveCanned(-1), Enter: () => this.insertCanned(this.cannedIndex), Tab: () => this.insertCanned(this.cannedIndex), Escape: () => this.closeCanned() };
      if (keys[event.key] && !event.ctrlKey && !event.metaKey) { event.preventDefault(); event.stopPropagation(); keys[event.key](); return; }
    }
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); this.submit(); }
    if (event.key === 'Escape') this.text.blur();
  }

  // Sending ---------------------------------------------------------------------------------------

  /** What the reply sends: text, the chosen image (text as its caption), on the chosen channel. */
  content() {
    const body = {};
    const text = this.text.value;
    const image = this.imageBox.hidden ? null : this.store.draft(this.ticketId).image;
    if (image?.file) body.image = image;
    if (text.trim()) body.text = text;
    if (!this.channelBox.hidden && this.channel.value) body.channel = this.channel.value;
    return body;
  }

  /** The image's public URL: uploaded once per chosen file (a resend after 409 reuses it). */
  async uploadImage(ticketId, image) {
    if (image.url) return image.url;
    this.send.textContent = t('composer.uploading');
    const { url } = await api.upload(image.file);
    if (this.store.draft(ticketId).image?.file === image.file) this.store.setDraft(ticketId, { image: { ...image, url } });
    return url;
  }

  /** force: send despite a 409; allowForbidden: send despite forbidden words (both asked first). */
  async submit({ force = false, allowForbidden = false } = {}) {
    const ticketId = this.ticketId;
    const mode = this.mode ?? 'reply';
    const body = mode === 'note' ? { text: this.text.value } : this.content();
    if (ticketId == null || (!body.text?.trim() && !body.image) || this.busy) return;
    this.busy = true;
    this.send.disabled = true;
    this.send.textContent = t('composer.sending');
    this.alert.replaceChildren();
    try {
      if (mode === 'note') {
        await this.store.note(ticketId, body.text);
      } else {
        if (!allowForbidden && body.text) {
          const { matches } = await api.checkWords(body.text);
          if (matches.length) {
            if (this.ticketId === ticketId) this.showForbidden(matches.map((m) => m.word), force);
            return;
          }
        }
        if (body.image) body.image = { url: await this.uploadImage(ticketId, body.image) };
        await this.store.reply(ticketId, { ...body, allowForbidden: allowForbidden || undefined }, force);
      }
      this.store.clearDraft(ticketId);
      if (this.ticketId === ticketId) {
        this.text.value = '';
        this.image.value = '';
        this.imageBox.hidden = true;
        this.imageToggle.setAttribute('aria-expanded', 'false');
        this.renderImage();
      }
    } catch (error) {
      if (this.ticketId === ticketId) this.showError(error, { force, allowForbidden });
    } finally {
      this.busy = false;
      this.send.disabled = false;
      this.applyMode();
    }
  }

  showForbidden(words, force) {
    this.alert.replaceChildren(
      el('p', { text: t('composer.forbidden', { words: [...new Set(words)].join(', ') }) }),
      el('button', { text: t('composer.sendAnyway'), attrs: { type: 'button' }, on: { click: () => this.submit({ force, allowForbidden: true }) } }),
      el('button', { text: t('composer.edit'), attrs: { type: 'button' }, on: { click: () => { this.alert.replaceChildren(); this.text.focus(); } } }));
    this.alert.querySelector('button').focus();
  }

  /** A plain notice in the alert (a key whose action is not offered here). */
  showNotice(text) {
    this.alert.replaceChildren(el('p', { text }));
  }

  showError(error, sent = {}) {
    if (error.status === 409 && error.code === 'ticket_changed') {
      this.alert.replaceChildren(
        el('p', { text: t('composer.conflict') }),
        el('button', { text: t('composer.sendAnyway'), attrs: { type: 'button' }, on: { click: () => this.submit({ ...sent, force: true }) } }),
        el('button', { text: t('composer.discard'), attrs: { type: 'button' }, on: { click: () => this.discard() } }));
    } else if (error.code === 'forbidden_words') {
      this.showForbidden([error.message], sent.force);
    } else if (error.status !== 401) {
      this.alert.replaceChildren(el('p', { text: t('composer.failed', { message: error.message }) }));
    }
  }

  discard() {
    if (this.ticketId == null) return;
    this.store.clearDraft(this.ticketId);
    this.text.value = '';
    this.image.value = '';
    this.imageBox.hidden = true;
    this.imageToggle.setAttribute('aria-expanded', 'false');
    this.renderImage();
    this.alert.replaceChildren();
    this.text.focus();
  }
}
customElements.define('reply-composer', ReplyComposer);
