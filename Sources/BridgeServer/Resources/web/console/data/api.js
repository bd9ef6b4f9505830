// The Data section's calls: retention, one contact's data (look-up, export, erasure), the audit log.
import { request, queryString } from '../../api.js';

const id = (value) => encodeURIComponent(String(value));

export const dataApi = {
  retention: () => request('GET', '/api/v1/data/retention'),
  setRetention: (periods) => request('PUT', '/api/v1/data/retention', periods),
  contact: (contactId) => request('GET', `/api/v1/contacts/${id(contactId)}`),
  exportURL: (contactId) => `/api/v1/data/contacts/${id(contactId)}/export`,
  erase: (contactId) => request('POST', '/api/v1/data/erasures', { contactId: Number(contactId) }),
  auditLog: (before) => request('GET', `/api/v1/audit-log?${queryString({ limit: 100, before })}`),
};
