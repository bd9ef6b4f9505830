// The open ticket: header with its actions, who else is here, and the conversation (messages,
// internal notes set apart, history entries between them) rendered from the store. Long
// conversations load their newest 50 messages; older pages come from the API (`before`) as the agent
// scrolls up. A failed reply shows the platform's reason and a Retry button.
import { clone, el, fillChannel } from '../dom.js';
import { formatFullTime, formatList, formatTime, t } from '../i18n.js';
import { mayAnswer } from '../access.js';
import './composer.js';
import './ticket-actions.js';
import './contact-panel.js';

export class ConversationView extends HTMLElement {
  set store(store) {
    this._store = store;
    store.addEventListener('change', (event) => {
      const { what, ticketId } = event.detail;
      if (what === 'open') this.show(ticketId);
      else if (ticketId !== store.openId) return;
      else if (what === 'ticket') { this.renderHead(); this.composer.renderChannels?.(); this.contactPanel.show(store.tickets.get(ticketId)); }
      else if (what === 'conversation') this.renderTimeline();
      else if (what === 'presence') this.renderPresence();
      else if (what === 'draft') { this.composer.ticketId = undefined; this.composer.show(ticketId); }
    });
    store.addEventListener('change', (event) => {
      if (event.detail.what !== 'contact') return;
      this.composer?.renderChannels?.();
      // The actions depend on the contact too (its history link): offered once it is known.
      if (store.tickets.get(store.openId)?.contact.id !== event.detail.ticketId) return;
      this.renderHead();
      this.contactPanel.render();
    });
  }

  connectedCallback() {
    if (this.built) return;
    this.built = true;
    this.setAttribute('aria-label', t('conv.label'));
    this.back = el('button', { class: 'back', attrs: { type: 'button' }, on: { click: () => this.dispatchEvent(new CustomEvent('open-ticket', { bubbles: true, detail: null })) } });
    this.titleEl = el('h2', { class: 'conv-title', attrs: { tabindex: '-1' } });
    this.meta = el('div', { class: 'conv-meta' });
    this.actions = document.createElement('ticket-actions');
    this.actions.className = 'conv-actions';
    this.contactPanel = document.createElement('contact-panel');
    this.contactPanel.store = this._store;
    this.contactToggle = el('button', { class: 'contact-toggle', attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'contact-panel' }, on: { click: () => this.toggleContact() } });
    this.presence = el('p', { class: 'presence', attrs: { role: 'status' } });
    this.earlier = el('button', { class: 'earlier', attrs: { type: 'button' }, on: { click: () => this.showEarlier() } });
    this.log = el('ol', { class: 'timeline', attrs: { role: 'log' } });
    this.scroller = el('div', { class: 'timeline-scroll' }, this.earlier, this.log);
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !this.earlier.hidden) this.showEarlier();
    }, { root: this.scroller }).observe(this.earlier);
    this.composer = document.createElement('reply-composer');
    this.composer.store = this._store;
    this.composer.live = this.live;
    this.emptyNote = el('p', { class: 'conv-empty' });
    this.panel = el('div', { class: 'conv' },
      el('header', { class: 'conv-head' }, this.back, el('div', { class: 'conv-heading' }, this.titleEl, this.meta), this.contactToggle, this.actions),
      this.presence,
      el('div', { class: 'conv-body' }, el('div', { class: 'conv-main' }, this.scroller, this.composer), this.contactPanel));
    this.log.addEventListener('click', (event) => {
      const retry = event.target.closest('.retry');
      if (retry) this.retry(Number(retry.closest('.item').dataset.messageId), retry);
    });
    this.items = new Map();
    this.relabel();
    this.show(this._store.openId);
  }

  relabel() {
    this.setAttribute('aria-label', t('conv.label'));
    this.back.textContent = '←';
    this.back.setAttribute('aria-label', t('conv.back'));
    this.earlier.textContent = t('conv.earlier');
    this.log.setAttribute('aria-label', t('conv.label'));
    this.emptyNote.textContent = t('conv.empty');
    this.contactToggle.textContent = t('contact.toggle');
    this.contactPanel.relabel?.();
    this.composer.relabel?.();
    this.items.clear();
    this.log.replaceChildren();
    this.renderHead();
    this.renderTimeline();
    this.renderPresence();
  }

  show(ticketId) {
    this.ticketId = ticketId;
    if (ticketId == null) {
      this.replaceChildren(this.emptyNote);
      return;
    }
    this.items.clear();
    this.log.replaceChildren();
    this.stickToBottom = true;
    if (!this.panel.isConnected) this.replaceChildren(this.panel);
    this.composer.show(ticketId);
    this.contactPanel.show(this._store.tickets.get(ticketId));
    this.renderHead();
    this.renderTimeline();
    this.renderPresence();
  }

  renderHead() {
    const store = this._store;
    const ticket = store.tickets.get(this.ticketId);
    if (!ticket) return;
    this.titleEl.textContent = ticket.contact.displayName || t('contact.unknown', { id: ticket.contact.id });
    const channels = ticket.channels.map((channel) => {
      const node = el('span', { class: 'channel' }, el('span', { class: 'channel-icon', attrs: { 'aria-hidden': 'true' } }), el('span', { class: 'channel-name' }));
      fillChannel(node, channel, t);
      return node;
    });
    this.meta.replaceChildren(...[
      el('span', { class: 'ticket-number', text: `#${ticket.id}` }),
      ...channels,
      el('span', { class: `label status-${ticket.status}`, text: t(`status.${ticket.status}`) }),
      ticket.priority !== 'normal' ? el('span', { class: `label priority-${ticket.priority}`, text: t(`priority.${ticket.priority}`) }) : null,
      ticket.resolutionReason ? el('span', { class: 'reason', text: t(`reason.${ticket.resolutionReason}`) }) : null,
      el('span', { class: 'assignee', text: ticket.assignee ?? t('list.unassigned') }),
      ticket.departmentId ? el('span', { class: 'department', text: store.departments.find((d) => d.id === ticket.departmentId)?.name ?? '' }) : null,
      ...(ticket.tags ?? []).map((tag) => el('span', { class: 'tag', text: `#${tag}` })),
    ].filter(Boolean));
    this.actions.render(store, ticket);
  }

  toggleContact() {
    const open = this.panel.classList.toggle('contact-open');
    this.contactToggle.setAttribute('aria-expanded', String(open));
  }

  /** The resolve dialog (the `e` key). */
  resolve() { return this.actions.resolve(); }

  renderPresence() {
    const others = this._store.presence.get(this.ticketId) ?? [];
    const typing = others.filter((a) => a.state === 'typing').map((a) => a.name);
    const viewing = others.filter((a) => a.state !== 'typing').map((a) => a.name);
    const parts = [];
    if (typing.length) parts.push(t('conv.typing', { names: formatList(typing) }));
    if (viewing.length) parts.push(t('conv.viewing', { names: formatList(viewing) }));
    this.presence.textContent = parts.join(' · ');
    this.presence.hidden = parts.length === 0;
  }

  /** The page of older messages; what the agent was reading stays where it was on the screen. */
  async showEarlier() {
    const ticketId = this.ticketId;
    const c = this._store.conversations.get(ticketId);
    if (!c?.nextBefore || c.loadingOlder) return;
    this.stickToBottom = false;
    this.keepFromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    await this._store.loadOlder(ticketId);
  }

  async retry(messageId, button) {
    button.disabled = true;
    try {
      await this._store.retry(this.ticketId, messageId);
    } catch (error) {
      button.disabled = false;
      if (error.status !== 401) this.composer.showError({ message: t('delivery.retryFailed', { message: error.message }) });
    }
  }

  renderTimeline() {
    const timeline = this._store.timeline(this.ticketId);
    if (!timeline || !this.log) return;
    const nearBottom = this.stickToBottom || this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 80;
    const visible = timeline;
    this.earlier.hidden = !this._store.conversations.get(this.ticketId)?.nextBefore;
    const keep = new Set(visible.map((item) => item.key));
    for (const [key, node] of this.items) if (!keep.has(key)) { node.remove(); this.items.delete(key); }
    let previous = null;
    for (const item of visible) {
      const node = this.render(item, this.items.get(item.key));
      this.items.set(item.key, node);
      const expected = previous ? previous.nextElementSibling : this.log.firstElementChild;
      if (expected !== node) this.log.insertBefore(node, expected);
      previous = node;
    }
    if (this.keepFromBottom != null) {
      this.scroller.scrollTop = this.scroller.scrollHeight - this.keepFromBottom;
      this.keepFromBottom = null;
    } else if (nearBottom) {
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.stickToBottom = false;
    }
  }

  render(item, existing) {
    if (item.kind === 'history') return existing ?? el('li', { class: 'item history' }, el('span', { text: this.historyText(item.data) }), el('time', { text: formatTime(item.at), attrs: { datetime: item.at } }));
    const node = existing ?? clone('message-item');
    const time = node.querySelector('time');
    time.textContent = formatTime(item.at);
    time.dateTime = item.at;
    time.title = formatFullTime(item.at);
    const channel = node.querySelector('.channel');
    if (item.kind === 'note') {
      node.className = 'item note';
      node.querySelector('.author').textContent = `${item.data.author} · ${t('conv.note')}`;
      channel.hidden = true;
      node.querySelector('.body').textContent = item.data.text;
      return node;
    }
    const message = item.data;
    node.className = `item message ${message.direction}`;
    node.dataset.messageId = message.id;
    node.querySelector('.author').textContent = this.author(message);
    fillChannel(channel, message.channel, t);
    node.querySelector('.body').textContent = this.bodyText(message);
    node.querySelector('.media').replaceChildren(...message.attachments.map((a) => this.attachment(a)), ...this.sentImage(message));
    const delivery = node.querySelector('.delivery');
    if (message.direction === 'out') {
      const failed = message.status === 'failed';
      delivery.className = `delivery label delivery-${message.status}`;
      delivery.textContent = failed && message.failure?.reason ? t('delivery.failedReason', { reason: message.failure.reason }) : t(`delivery.${message.status}`);
      delivery.hidden = false;
      let retry = node.querySelector('.retry');
      if (failed && mayAnswer(this._store.me, this._store.tickets.get(message.ticketId))) {
        retry ??= el('button', { class: 'retry quiet', attrs: { type: 'button' } });
        retry.textContent = t('delivery.retry');
        retry.disabled = false;
        delivery.after(retry);
      } else {
        retry?.remove();
      }
    } else {
      delivery.hidden = true;
    }
    return node;
  }

  author(message) {
    if (message.direction === 'in') {
      return this._store.tickets.get(message.ticketId)?.contact.displayName || t('conv.customer');
    }
    const author = message.author ?? 'system';
    if (author.startsWith('agent:')) return this._store.agentName(author.slice(6)) ?? author;
    if (author.startsWith('slack:')) return `${author.slice(6)} (Slack)`;
    return t('conv.system');
  }

  bodyText(message) {
    const content = message.content ?? {};
    switch (content.kind) {
      case 'text': return content.text ?? message.text;
      case 'sticker': return t('conv.sticker');
      case 'location': {
        const l = content.location ?? {};
        return t('conv.location', { place: l.title || l.address || `${l.latitude}, ${l.longitude}` });
      }
      case 'image': case 'video': case 'audio': case 'file': return content.text ?? '';
      default: return message.text;
    }
  }

  attachment(a) {
    if (a.status === 'pending') return el('p', { class: 'attachment', text: t('conv.attachmentPending') });
    if (a.status === 'failed') return el('p', { class: 'attachment failed', text: t('conv.attachmentFailed', { reason: a.failureReason ?? '' }) });
    if ((a.mimeType ?? '').startsWith('image/')) {
      const name = this._store.tickets.get(this.ticketId)?.contact.displayName ?? t('conv.customer');
      return el('a', { attrs: { href: a.url, target: '_blank', rel: 'noopener' } },
        el('img', { class: 'attachment-image', attrs: { src: a.url, alt: t('conv.image', { name }), loading: 'lazy' } }));
    }
    return el('a', { class: 'attachment', text: t('conv.file', { name: a.fileName ?? a.id }), attrs: { href: a.url, download: a.fileName ?? '' } });
  }

  /** An image we sent by URL. One the bridge itself serves (an upload's /media/<id>/<signature>)
   *  is shown inline from this origin, whatever host the public URL names; another host's image
   *  is a link (the page's CSP loads images only from the bridge). */
  sentImage(message) {
    const url = message.direction === 'out' && message.content?.kind === 'image' ? message.content.media?.url : null;
    if (!url) return [];
    let parsed;
    try { parsed = new URL(url); } catch { return []; }
    if (/^\/media\/[0-9a-f]{32}\/[0-9a-f]{64}$/.test(parsed.pathname)) {
      return [el('a', { attrs: { href: parsed.pathname, target: '_blank', rel: 'noopener' } },
        el('img', { class: 'attachment-image', attrs: { src: parsed.pathname, alt: t('conv.sentImage'), loading: 'lazy' } }))];
    }
    return [el('a', { class: 'attachment', text: t('conv.sentImageLink', { url }), attrs: { href: url, target: '_blank', rel: 'noopener noreferrer' } })];
  }

  /** One history entry in the agent's language. Every kind the server records (`Inbox.record`:
   *  assignment, transfer, status, spam, merge, split, fields, automatic replies, rules, ratings)
   *  has its own text; only a kind from a newer server falls back to `history.other`. */
  historyText(entry) {
    const actor = this.actorName(entry.actor);
    const d = entry.detail ?? {};
    const status = (s) => (s ? t(`status.${s}`) : '');
    const agent = (id) => this._store.agentName(id) ?? t('history.agentNumber', { id });
    const params = { actor, kind: entry.kind, ...d };
    switch (entry.kind) {
      case 'assigned': return t(d.how === 'claim' ? 'history.claimed' : d.how?.startsWith('automatic') ? 'history.assignedAutomatically' : 'history.assigned',
        { ...params, agent: d.agentId ? agent(d.agentId) : actor });
      case 'transferred':
        if (d.agentId) return t('history.transferredToAgent', { ...params, agent: agent(d.agentId) });
        if (d.departmentId) {
          const department = this._store.departments.find((x) => String(x.id) === d.departmentId)?.name ?? t('history.departmentNumber', { id: d.departmentId });
          return t('history.transferredToDepartment', { ...params, department });
        }
        return t('history.requeued', { ...params, from: d.fromAgentId ? agent(d.fromAgentId) : '' });
      case 'status': return t('history.status', { ...params, from: status(d.from), to: status(d.to) });
      case 'priority': return t('history.priority', { ...params, to: t(`priority.${d.to}`) });
      case 'resolution_reason': return t('history.resolution_reason', { ...params, to: t(`reason.${d.to}`) });
      case 'field': {
        const label = this._store.fieldDefs?.find((f) => f.key === d.key)?.label ?? d.key;
        return t(d.value == null ? 'history.fieldCleared' : 'history.field', { ...params, field: label });
      }
      case 'split': case 'split_from':
        return t(`history.${entry.kind}`, { ...params, count: (d.messages ?? '').split(',').filter(Boolean).length });
      case 'spam_filter': return t('history.spam_filter', { ...params, percent: Math.round(Number(d.probability) * 100) });
      case 'rated': return t('history.rated', { ...params, rating: ['good', 'bad'].includes(d.rating) ? t(`contact.rating.${d.rating}`) : d.rating });
      case 'notified': return t('history.notified', {
        ...params, agents: formatList((d.agentIds ?? '').split(',').filter(Boolean).map(agent)) || t('history.nobody'),
      });
      case 'tagged': case 'untagged': case 'merged': case 'merged_in': case 'marked_spam': case 'restored_from_spam':
      case 'opened_for_outreach': case 'queue_notice': case 'acknowledgement': case 'out_of_hours_reply':
      case 'queue_notice_not_sent': case 'acknowledgement_not_sent': case 'out_of_hours_reply_not_sent': case 'rule_action_failed':
        return t(`history.${entry.kind}`, params);
      default: return t('history.other', params);
    }
  }

  /** Who did it: an agent by name; the admin token, the bridge, a rule and the customer in words. */
  actorName(actor) {
    if (actor?.startsWith('agent:')) return this._store.agentName(actor.slice(6)) ?? t('history.agentNumber', { id: actor.slice(6) });
    if (actor?.startsWith('rule:')) return t('history.actor.rule', { id: actor.slice(5) });
    if (actor === 'system') return t('conv.system');
    if (actor === 'admin token') return t('history.actor.adminToken');
    if (actor === 'customer') return t('history.actor.customer');
    return actor ?? '';
  }
}
customElements.define('conversation-view', ConversationView);
