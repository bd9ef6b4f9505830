// The Data section's calls: retention, one contact's data (look-up, export, erasure), the audit log.
import { request, queryString } from '../../api.js';

const id = (value) => encodeURIComponent(String(value));

export const dataApi = {
  retention: () => request('GET', '/api/v1/data/retention'),
  setRetention: (periods) => request('PUT', '/api/v1/data/retention', periods),
  contact: (contactId) => request('GET', `/api/v1/contacts/${id(contactId)}`),
  /** Contacts whose tickets match `words` (part of a name, an e-mail, an id, a channel user id or phone). */
  findContacts: async (words) => {
    const page = await request('GET', `/api/v1/tickets?${queryString({ contact: words, limit: 100 })}`);
    const found = new Map();
    for (const ticket of page.items) if (!found.has(ticket.contact.id)) found.set(ticket.contact.id, ticket.contact);
    return [...found.values()];
  },
  exportURL: (contactId) => `/api/v1/data/contacts/${id(contactId)}/export`,
  erase: (contactId) => request('POST', '/api/v1/data/erasures', { contactId: Number(contactId) }),
  auditLog: (before) => request('GET', `/api/v1/audit-log?${queryString({ limit: 100, before })}`),
};
