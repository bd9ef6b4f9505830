// The contact beside the conversation: identities on every channel (GET /contacts/{id}), e-mail,
// custom contact fields (labels from GET /fields), the contact's own tags, earlier tickets
// (GET /tickets?contact=id), their satisfaction answers (the contact's `ratings`), and, when
// access.js says the contact may be changed, editing its tags (PATCH /contacts/{id}) and "link
// another identity" (POST /contacts/{id}/links), whose dialog lists only the contacts the agent may
// link into this one.
import { api } from '../api.js';
import { el, fillChannel } from '../dom.js';
import { formatTime, t } from '../i18n.js';
import { mayReachContact } from '../access.js';

export class ContactPanel extends HTMLElement {
  connectedCallback() {
    this.id = 'contact-panel';
    this.setAttribute('role', 'complementary');
    this.relabel();
  }

  relabel() {
    this.setAttribute('aria-label', t('contact.panel'));
    if (this.ticket) this.render();
  }

  /** Shows the contact of a ticket; loads it (and its earlier tickets) when the contact changes. */
  async show(ticket) {
    this.ticket = ticket;
    if (!ticket) { this.replaceChildren(); this.contactId = null; return; }
    const contactId = ticket.contact.id;
    if (contactId !== this.contactId) {
      this.contactId = contactId;
      this.earlier = null;
      this.render();
      const [, earlier] = await Promise.all([
        this.store.contact(contactId, true).catch(() => null),
        api.tickets({ contact: String(contactId), limit: 20 }).catch(() => ({ items: [] })),
        this.loadFields(),
      ]);
      if (contactId !== this.contactId) return;
      this.earlier = earlier.items.filter((x) => x.contact.id === contactId);
    }
    this.render();
  }

  async loadFields() {
    if (!this.store.fieldDefs) this.store.fieldDefs = await api.fields().then((r) => r.items).catch(() => []);
  }

  render() {
    const ticket = this.ticket;
    if (!ticket) return;
    const contact = this.store.contacts.get(ticket.contact.id);
    const name = contact?.displayName || ticket.contact.displayName || t('contact.unknown', { id: ticket.contact.id });
    const section = (title, ...children) => el('section', { class: 'cp-section' }, el('h4', { text: title }), ...children);
    const identities = (contact?.identities ?? []).map((i) => {
      const channel = el('span', { class: 'channel' }, el('span', { class: 'channel-icon', attrs: { 'aria-hidden': 'true' } }), el('span', { class: 'channel-name' }));
      fillChannel(channel, i.channel, t);
      return el('li', { class: 'identity' }, channel,
        el('span', { class: 'identity-id', text: i.phone || i.displayName || i.platformUserId, attrs: { title: i.platformUserId } }),
        i.blocked ? el('span', { class: 'label status-spam', text: t('contact.blocked') }) : null,
        i.lastInboundAt ? el('time', { class: 'identity-last', text: formatTime(i.lastInboundAt), attrs: { datetime: i.lastInboundAt, title: t('contact.lastInbound') } }) : null);
    });
    const defs = (this.store.fieldDefs ?? []).filter((f) => f.scope === 'contact');
    const values = contact?.fields ?? {};
    const fieldRows = Object.keys(values).map((key) => [defs.find((d) => d.key === key)?.label ?? key, values[key]]);
    if (contact?.email) fieldRows.unshift([t('contact.email'), contact.email]);
    const earlier = (this.earlier ?? []).filter((x) => x.id !== ticket.id).map((x) => el('li', {},
      el('a', { class: 'earlier-ticket', attrs: { href: `#/${this.store.viewKey ?? 'all'}/${x.id}` }, on: { click: (event) => { event.preventDefault(); this.dispatchEvent(new CustomEvent('open-ticket', { bubbles: true, detail: x.id })); } } },
        el('span', { class: 'ticket-number', text: `#${x.id}` }),
        el('span', { class: `label status-${x.status}`, text: t(`status.${x.status}`) }),
        el('span', { class: 'earlier-preview', text: x.lastMessage?.text ?? '' }),
        el('time', { text: formatTime(x.updatedAt), attrs: { datetime: x.updatedAt } }))));
    const ratings = (contact?.ratings ?? []).map((r) => el('li', { class: 'rating' },
      el('span', { class: `label rating-${r.rating}`, text: ['good', 'bad'].includes(r.rating) ? t(`contact.rating.${r.rating}`) : r.rating }),
      el('span', { class: 'ticket-number', text: `#${r.ticketId}` }),
      el('time', { text: formatTime(r.answeredAt), attrs: { datetime: r.answeredAt, title: t('contact.ratedAt') } })));
    const changeable = contact && mayReachContact(this.store.me, contact, 'answer');
    const link = changeable
      ? el('button', { class: 'quiet', text: t('contact.link'), attrs: { type: 'button' }, on: { click: () => this.link() } }) : null;
    const tags = (contact?.tags ?? []).map((tag) => el('li', { class: 'tag', text: `#${tag}` }));
    const editTags = changeable
      ? el('button', { class: 'quiet', text: t('contact.editTags'), attrs: { type: 'button' }, on: { click: () => this.editTags(contact, name) } }) : null;
    this.replaceChildren(...[
      el('h3', { class: 'cp-name', text: name }),
      section(t('contact.identities'), identities.length ? el('ul', { class: 'identities' }, identities) : el('p', { class: 'faint', text: contact ? '—' : t('list.loading') }), link),
      fieldRows.length ? section(t('contact.fields'), el('dl', { class: 'cp-fields' }, fieldRows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]))) : null,
      tags.length || editTags ? section(t('contact.tags'), tags.length ? el('ul', { class: 'cp-tags' }, tags) : el('p', { class: 'faint', text: t('contact.noTags') }), editTags) : null,
      section(t('contact.earlier'), this.earlier == null ? el('p', { class: 'faint', text: t('list.loading') })
        : earlier.length ? el('ul', { class: 'earlier-tickets' }, earlier) : el('p', { class: 'faint', text: t('contact.noEarlier') })),
      ratings.length ? section(t('contact.ratings'), el('ul', { class: 'ratings' }, ratings)) : null,
    ].filter(Boolean));
  }

  /** Keeps, drops and adds the contact's own tags (action-dialogs.js, loaded on first use). */
  async editTags(contact, name) {
    const { contactTags } = await import('./action-dialogs.js');
    return contactTags(this.store, contact, name);
  }

  /** Finds another contact and links it to this one (action-dialogs.js, loaded on first use). */
  async link() {
    const ticket = this.ticket;
    const { linkContact } = await import('./action-dialogs.js');
    return linkContact(this.store, ticket, async () => {
      this.contactId = null;
      await this.show(this.store.tickets.get(ticket.id) ?? ticket);
    });
  }
}
customElements.define('contact-panel', ContactPanel);
