// The console's Channels section: every channel account in force with the webhook URL to paste into
// the platform's console, which secrets are set (never their values), its traffic as the database
// counts it (every process's), and a test message; accounts added here can be edited and disabled,
// and take effect without a restart. bridge.yaml's accounts are shown read-only.
// Paths: '' the list, 'add' the form for a new account, 'edit/<kind>/<id>' an account's form.
import { el } from '../../dom.js';
import { formatFullTime, formatNumber, t, useCatalogue } from '../../i18n.js';
import { copyButton, field, pageHead, statusLine } from '../ui.js';
import { addAccount, editAccount, listAccounts, sendTestMessage } from './api.js';

await useCatalogue((code) => import(`./i18n/${code}.js`).then((m) => m.default));

const kindName = (kind) => t(`channel.${kind}`);
const fieldLabel = (name) => t(`channels.field.${name}`);

class ChannelsSection extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.load();
  }

  set path(value) {
    this._path = value;
    if (this.isConnected && this.data) this.render();
  }

  get path() { return this._path ?? ''; }

  relabel() { if (this.data) this.render(); }

  go(path) { this.dispatchEvent(new CustomEvent('navigate', { bubbles: true, detail: { path } })); }

  async load() {
    try {
      this.data = await listAccounts();
    } catch (error) {
      this.replaceChildren(pageHead(t('channels.title')), this.status);
      this.status.fail(error);
      return;
    }
    this.render();
  }

  render() {
    const [view, kind, ...rest] = this.path.split('/');
    if (view === 'add') return this.renderForm(null);
    if (view === 'edit') {
      const account = this.data.items.find((item) => item.kind === kind && item.id === rest.join('/') && item.source === 'console');
      if (account) return this.renderForm(account);
    }
    this.renderList();
  }

  renderList() {
    const { items, secretsKeyConfigured } = this.data;
    const add = el('button', { class: 'primary', text: t('channels.add'), attrs: { type: 'button' }, on: { click: () => this.go('add') } });
    const refresh = el('button', { text: t('channels.refresh'), attrs: { type: 'button' }, on: { click: () => this.load() } });
    const parts = [pageHead(t('channels.title'), refresh, add)];
    if (!secretsKeyConfigured) {
      parts.push(el('p', { class: 'card channels-key', text: t('channels.noKey'), attrs: { role: 'note' } }));
    }
    parts.push(this.status);
    if (!items.length) parts.push(el('p', { class: 'console-note', text: t('channels.none') }));
    parts.push(el('div', { class: 'channel-cards' }, items.map((item) => this.card(item))));
    this.replaceChildren(...parts);
  }

  /** One account: an <article> named by its heading (kind and id). */
  card(item) {
    const headingId = `channel-${item.kind}-${item.id}`;
    const url = item.webhookURL ?? `${location.origin}${item.webhookPath}`;
    const urlInput = el('input', { attrs: { type: 'text', readonly: true, value: url, class: 'mono' } });
    urlInput.value = url;
    const labels = [
      el('span', { class: 'label', text: item.source === 'file' ? t('channels.source.file') : t('channels.source.console') }),
      el('span', { class: `label ${item.enabled ? 'ok' : 'warn'}`, text: item.enabled ? t('channels.enabled') : t('channels.disabled') }),
    ];
    if (item.problem) labels.push(el('span', { class: 'label bad', text: t('channels.problem', { problem: item.problem }) }));
    const activity = item.activity;
    const facts = [
      [t('channels.lastWebhook'), activity.lastWebhookAt ? formatFullTime(activity.lastWebhookAt) : t('channels.never')],
      [t('channels.refused'), formatNumber(activity.refusedLastHour)],
      [t('channels.queue'), formatNumber(activity.queueDepth)],
      [t('channels.lastError'), activity.lastSendError
        ? `${activity.lastSendError}${activity.lastSendErrorAt ? ` (${formatFullTime(activity.lastSendErrorAt)})` : ''}` : t('channels.noError')],
    ];
    const secrets = item.secrets.map((secret) => [fieldLabel(secret.name),
      secret.set ? (secret.last4 ? t('channels.secret.setEnding', { last4: secret.last4 }) : t('channels.secret.set')) : t('channels.secret.unset')]);
    const list = (rows, label) => el('dl', { class: 'channel-facts', attrs: { 'aria-label': label } },
      rows.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value })]));
    const actions = [];
    if (item.source === 'console') {
      actions.push(el('button', { text: t('channels.edit'), attrs: { type: 'button' }, on: { click: () => this.go(`edit/${item.kind}/${item.id}`) } }));
      actions.push(el('button', { text: item.enabled ? t('channels.disable') : t('channels.enable'), attrs: { type: 'button' },
        on: { click: () => this.setEnabled(item, !item.enabled) } }));
    }
    return el('article', { class: 'card channel-card', attrs: { 'aria-labelledby': headingId } },
      el('header', { class: 'channel-head' },
        el('h2', { text: `${kindName(item.kind)} · ${item.id}`, attrs: { id: headingId } }),
        el('span', { class: 'channel-labels' }, labels),
        el('span', { class: 'page-actions' }, actions)),
      el('div', { class: 'channel-url' }, field(t('channels.webhookURL'), urlInput, t('channels.webhookURL.hint')),
        copyButton(url, t('channels.copyURL'))),
      el('div', { class: 'channel-columns' }, list(secrets, t('channels.secrets')), list(facts, t('channels.activity'))),
      this.testForm(item));
  }

  testForm(item) {
    const recipient = el('input', { attrs: { type: 'text', required: true, autocomplete: 'off' } });
    const text = el('input', { attrs: { type: 'text', maxlength: 1000 } });
    text.value = t('channels.test.default');
    const result = statusLine();
    const send = el('button', { text: t('channels.test.send'), attrs: { type: 'submit' } });
    const form = el('form', { class: 'channel-test', attrs: { 'aria-label': t('channels.test.title', { account: item.key }) } },
      field(t('channels.test.recipient'), recipient, t('channels.test.recipient.hint')), field(t('channels.test.text'), text), send, result);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      send.disabled = true;
      try {
        await sendTestMessage(item.kind, item.id, recipient.value.trim(), text.value);
        result.ok(t('channels.test.sent'));
      } catch (error) {
        result.fail(error);
      } finally {
        send.disabled = false;
      }
    });
    return el('details', { class: 'channel-test-box' }, el('summary', { text: t('channels.test.open') }), form);
  }

  async setEnabled(item, enabled) {
    try {
      await editAccount(item.kind, item.id, { enabled });
      await this.load();
      this.status.ok(enabled ? t('channels.enabledNow', { account: item.key }) : t('channels.disabledNow', { account: item.key }));
    } catch (error) {
      this.status.fail(error);
    }
  }

  /** The form for a new account (account null) or a console account's settings. */
  renderForm(account) {
    const editing = Boolean(account);
    const kinds = this.data.kinds;
    const kind = el('select', { attrs: { required: true, disabled: editing } },
      kinds.map((entry) => el('option', { text: kindName(entry.kind), attrs: { value: entry.kind } })));
    kind.value = account?.kind ?? 'line';
    const id = el('input', { attrs: { type: 'text', required: true, pattern: '[A-Za-z0-9_\\-]+', maxlength: 64, autocomplete: 'off', readonly: editing } });
    id.value = account?.id ?? '';
    const enabled = el('input', { attrs: { type: 'checkbox' } });
    enabled.checked = account?.enabled ?? true;
    const fieldsBox = el('div', { class: 'channel-fields' });
    let inputs = new Map();
    const drawFields = () => {
      inputs = new Map();
      const spec = kinds.find((entry) => entry.kind === kind.value)?.fields ?? [];
      fieldsBox.replaceChildren(...spec.map((f) => {
        const input = el('input', { attrs: { type: f.secret ? 'password' : 'text', autocomplete: f.secret ? 'new-password' : 'off',
          required: f.required && !(editing && f.secret) ? true : false } });
        if (!f.secret && account?.settings?.[f.name]) input.value = account.settings[f.name];
        inputs.set(f.name, input);
        const secret = account?.secrets?.find((s) => s.name === f.name);
        const hint = f.secret
          ? (editing && secret?.set ? t('channels.form.keep') : t('channels.form.secret'))
          : (f.required ? '' : t('channels.form.optional'));
        return field(fieldLabel(f.name), input, hint || undefined);
      }));
    };
    kind.addEventListener('change', drawFields);
    drawFields();
    const status = statusLine();
    const submit = el('button', { class: 'primary', text: editing ? t('channels.form.save') : t('channels.form.add'), attrs: { type: 'submit' } });
    const cancel = el('button', { text: t('channels.form.cancel'), attrs: { type: 'button' }, on: { click: () => this.go('') } });
    const title = editing ? t('channels.form.editTitle', { account: account.key }) : t('channels.form.addTitle');
    const form = el('form', { class: 'card channel-form', attrs: { 'aria-label': title } },
      field(t('channels.form.kind'), kind), field(t('channels.form.id'), id, t('channels.form.id.hint')),
      fieldsBox, field(t('channels.form.enabled'), enabled), el('div', { class: 'page-actions' }, submit, cancel), status);
    if (!this.data.secretsKeyConfigured) form.prepend(el('p', { class: 'channels-key', text: t('channels.noKey'), attrs: { role: 'note' } }));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const fields = {};
      for (const [name, input] of inputs) if (input.value !== '' || editing) fields[name] = input.value;
      submit.disabled = true;
      try {
        const saved = editing
          ? await editAccount(account.kind, account.id, { fields, enabled: enabled.checked })
          : await addAccount({ kind: kind.value, id: id.value.trim(), fields, enabled: enabled.checked });
        this.data = await listAccounts();
        this.go('');
        this.status.ok(editing ? t('channels.savedNow', { account: saved.key }) : t('channels.addedNow', { account: saved.key }));
      } catch (error) {
        status.fail(error);
      } finally {
        submit.disabled = false;
      }
    });
    this.replaceChildren(pageHead(title), form);
    (editing ? fieldsBox.querySelector('input') : id)?.focus();
  }
}

customElements.define('console-channels', ChannelsSection);
