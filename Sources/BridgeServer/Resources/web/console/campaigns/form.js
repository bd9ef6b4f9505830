// A new campaign: its audience (segment conditions), content with {{…}} variables, channel and
// schedule (a wall-clock time in a chosen time zone). Every change asks the API for a preview
// (POST /api/v1/campaigns/preview): how many contacts, how many each channel would skip and why,
// and what each channel's message would say, with the SMS parts and an estimate of their cost.
import { el } from '../../dom.js';
import { formatNumber, t } from '../../i18n.js';
import { dataTable, field, pageHead, statusLine } from '../ui.js';
import { campaignsApi } from './api.js';
import { timeZones, zonedToISO } from './zoned.js';

const CHANNELS = ['line', 'whatsapp', 'messenger', 'instagram', 'sms', 'wechat', 'email'];
const TAGS = ['CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE'];
const list = (text) => text.split(/[,、]/).map((part) => part.trim()).filter(Boolean);

class CampaignForm extends HTMLElement {
  connectedCallback() {
    if (!this.built) this.build();
  }

  relabel() { this.build(); }

  input(type = 'text', attrs = {}) {
    return el('input', { attrs: { type, ...attrs } });
  }

  select(options) {
    return el('select', {}, options.map(([value, label]) => el('option', { text: label, attrs: { value } })));
  }

  build() {
    const old = this.controls ? this.body() : null;
    this.built = true;
    const c = this.controls = {
      name: this.input('text', { maxlength: 200, required: true }),
      tags: this.input(),
      segmentChannel: this.select([['', t('campaigns.any')], ...CHANNELS.map((ch) => [ch, t(`channel.${ch}`)])]),
      fields: this.input('text', { placeholder: 'tier=gold' }),
      after: this.input('date'),
      optedIn: this.input('checkbox'),
      channel: this.select([['', t('campaigns.lastUsed')], ...CHANNELS.map((ch) => [ch, t(`channel.${ch}`)])]),
      text: el('textarea', { attrs: { rows: 4 } }),
      imageUrl: this.input('url', { placeholder: 'https://' }),
      templateName: this.input(),
      templateLanguage: this.input('text', { placeholder: 'ja' }),
      templateParams: this.input(),
      messengerTag: this.select([['', t('campaigns.noTag')], ...TAGS.map((tag) => [tag, tag])]),
      subject: this.input(),
      schedule: this.input('checkbox'),
      at: this.input('datetime-local'),
      zone: this.select(timeZones().map((zone) => [zone, zone])),
      price: this.input('number', { min: 0, step: 'any', value: '0.08' }),
    };
    if (old) this.restore(old);
    this.status = statusLine();
    this.summary = el('p', { class: 'campaign-summary', attrs: { 'aria-live': 'polite' } });
    this.previewBody = el('div');
    this.submit = el('button', { class: 'primary', attrs: { type: 'submit' } });
    const form = el('form', { class: 'campaign-form', attrs: { 'aria-label': t('campaigns.new') }, on: {
      input: () => this.changed(), change: () => this.changed(), submit: (event) => { event.preventDefault(); this.create(); },
    } },
    el('fieldset', {}, el('legend', { text: t('campaigns.audience') }),
      field(t('campaigns.name'), c.name),
      field(t('campaigns.tags'), c.tags, t('campaigns.tags.hint')),
      field(t('campaigns.segmentChannel'), c.segmentChannel),
      field(t('campaigns.fields'), c.fields, t('campaigns.fields.hint')),
      field(t('campaigns.after'), c.after),
      field(t('campaigns.optedIn'), c.optedIn)),
    el('fieldset', {}, el('legend', { text: t('campaigns.content') }),
      field(t('campaigns.channel'), c.channel),
      field(t('campaigns.text'), c.text, t('campaigns.text.hint')),
      field(t('campaigns.imageUrl'), c.imageUrl),
      el('div', { class: 'campaign-row' },
        field(t('campaigns.template'), c.templateName), field(t('campaigns.language'), c.templateLanguage),
        field(t('campaigns.params'), c.templateParams, t('campaigns.params.hint'))),
      field(t('campaigns.messengerTag'), c.messengerTag, t('campaigns.messengerTag.hint')),
      field(t('campaigns.subject'), c.subject, t('campaigns.subject.hint'))),
    el('fieldset', {}, el('legend', { text: t('campaigns.when') }),
      field(t('campaigns.schedule'), c.schedule),
      el('div', { class: 'campaign-row' }, field(t('campaigns.at'), c.at), field(t('campaigns.zone'), c.zone))),
    el('section', { class: 'card campaign-preview', attrs: { 'aria-label': t('campaigns.preview') } },
      el('h2', { text: t('campaigns.preview') }), this.summary, this.previewBody,
      field(t('campaigns.price'), c.price, t('campaigns.price.hint'))),
    this.status,
    el('div', { class: 'page-actions' }, this.submit));
    this.replaceChildren(pageHead(t('campaigns.new')), form);
    this.changed();
  }

  /** The values typed so far, to rebuild the form in another language without losing them. */
  restore(values) {
    for (const [key, control] of Object.entries(this.controls)) {
      if (values.raw[key] === undefined) continue;
      if (control.type === 'checkbox') control.checked = values.raw[key];
      else control.value = values.raw[key];
    }
  }

  /** The request body POST /campaigns (and its preview) takes; `raw` keeps the controls' values. */
  body() {
    const c = this.controls;
    const raw = Object.fromEntries(Object.entries(c).map(([key, control]) => [key, control.type === 'checkbox' ? control.checked : control.value]));
    const audience = {};
    if (list(c.tags.value).length) audience.tags = list(c.tags.value);
    if (c.segmentChannel.value) audience.channel = c.segmentChannel.value;
    const fields = Object.fromEntries(list(c.fields.value).map((pair) => pair.split('=').map((part) => part.trim())).filter(([key, value]) => key && value));
    if (Object.keys(fields).length) audience.contactFields = fields;
    if (c.after.value) audience.lastContactAfter = c.after.value;
    if (c.optedIn.checked) audience.optedIn = true;
    const content = {};
    if (c.text.value.trim()) content.text = c.text.value;
    if (c.imageUrl.value.trim()) content.imageUrl = c.imageUrl.value.trim();
    if (c.templateName.value.trim()) {
      content.template = { name: c.templateName.value.trim(), language: c.templateLanguage.value.trim(), parameters: list(c.templateParams.value) };
    }
    if (c.messengerTag.value) content.messengerTag = c.messengerTag.value;
    if (c.subject.value.trim()) content.subject = c.subject.value.trim();
    const body = { audience, content, raw };
    if (c.name.value.trim()) body.name = c.name.value.trim();
    if (c.channel.value) body.channel = c.channel.value;
    if (c.schedule.checked) body.scheduledAt = zonedToISO(c.at.value, c.zone.value);
    return body;
  }

  changed() {
    const scheduled = this.controls.schedule.checked;
    this.controls.at.disabled = !scheduled;
    this.controls.zone.disabled = !scheduled;
    this.submit.textContent = scheduled ? t('campaigns.scheduleIt') : t('campaigns.sendNow');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.preview(), 250);
  }

  async preview() {
    const { raw, ...body } = this.body();
    if (!Object.keys(body.audience).length || !Object.keys(body.content).length || body.scheduledAt === null) {
      this.summary.textContent = t('campaigns.preview.waiting');
      this.previewBody.replaceChildren();
      return;
    }
    const asked = this.asked = (this.asked ?? 0) + 1;
    let answer;
    try {
      answer = await campaignsApi.preview(body);
    } catch (error) {
      if (asked !== this.asked) return;
      this.summary.textContent = t('campaigns.preview.refused', { message: error.message });
      this.previewBody.replaceChildren();
      return;
    }
    if (asked !== this.asked) return;  // a later change asked again
    this.show(answer);
  }

  show(answer) {
    this.summary.textContent = t('campaigns.preview.summary', {
      total: formatNumber(answer.total), send: formatNumber(answer.willSend), skipped: formatNumber(answer.skipped) });
    const channelName = (channel) => (channel === '-' ? t('campaigns.nowhere') : t(`channel.${channel}`));
    const skips = dataTable({
      caption: t('campaigns.skips'),
      empty: t('campaigns.nobody'),
      rows: answer.channels,
      columns: [
        { label: t('campaigns.channelCol'), value: (row) => channelName(row.channel) },
        { label: t('campaigns.recipients'), numeric: true, value: (row) => formatNumber(row.recipients) },
        { label: t('campaigns.willSend'), numeric: true, value: (row) => formatNumber(row.willSend) },
        { label: t('campaigns.skipped'), numeric: true, value: (row) => formatNumber(row.skipped) },
        { label: t('campaigns.reasons'), value: (row) => el('ul', { class: 'reasons' },
          row.reasons.map((r) => el('li', { text: `${r.reason} (${formatNumber(r.count)})` }))) },
      ],
    });
    const smsRecipients = answer.channels.find((row) => row.channel === 'sms')?.willSend ?? 0;
    const cards = answer.messages.map((message) => this.messageCard(message, smsRecipients));
    this.previewBody.replaceChildren(el('div', { class: 'table-scroll' }, skips), el('h3', { text: t('campaigns.messages') }), el('div', { class: 'campaign-messages' }, cards));
  }

  messageCard(message, smsRecipients) {
    const lines = [];
    if (message.template) {
      lines.push(el('p', { text: t('campaigns.msg.template', { name: message.template.name, language: message.template.language }) }));
      if (message.template.parameters?.length) lines.push(el('p', { text: t('campaigns.msg.params', { params: message.template.parameters.join(' · ') }) }));
    }
    if (message.subject) lines.push(el('p', { class: 'subject', text: t('campaigns.msg.subject', { subject: message.subject }) }));
    if (message.imageUrl) lines.push(el('p', { class: 'mono', text: message.imageUrl }));
    if (message.text && message.kind !== 'template') lines.push(el('p', { class: 'bubble', text: message.text }));
    if (message.messengerTag) lines.push(el('p', { class: 'hint', text: t('campaigns.msg.tag', { tag: message.messengerTag }) }));
    if (message.segments) {
      const parts = message.segments.count;
      const price = Number(this.controls.price.value) || 0;
      lines.push(el('p', { class: 'hint', text: t('campaigns.msg.segments', {
        parts: formatNumber(parts), encoding: message.segments.encoding === 'ucs2' ? 'UCS-2' : 'GSM-7',
        recipients: formatNumber(smsRecipients), cost: formatNumber(Math.round(parts * smsRecipients * price * 100) / 100) }) }));
    }
    return el('article', { class: 'campaign-message', attrs: { 'aria-label': t(`channel.${message.channel}`) } },
      el('h4', { text: t(`channel.${message.channel}`) }), ...lines);
  }

  async create() {
    const { raw, ...body } = this.body();
    if (!body.name) {
      this.status.fail(new Error(t('campaigns.name.needed')));
      this.controls.name.focus();
      return;
    }
    if (this.controls.schedule.checked && !body.scheduledAt) {
      this.status.fail(new Error(t('campaigns.at.needed')));
      this.controls.at.focus();
      return;
    }
    if (!body.scheduledAt) body.start = true;
    this.submit.disabled = true;
    try {
      const campaign = await campaignsApi.create(body);
      this.onCreated?.(campaign);
    } catch (error) {
      this.status.fail(error);
    } finally {
      this.submit.disabled = false;
    }
  }
}

customElements.define('campaign-form', CampaignForm);
