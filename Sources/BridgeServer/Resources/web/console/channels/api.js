// The Channels section's calls: /api/v1/channel-accounts (owners and admins).
import { request } from '../../api.js';

const path = (kind, id) => `/api/v1/channel-accounts/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`;

/** {items, kinds, secretsKeyConfigured} */
export const listAccounts = () => request('GET', '/api/v1/channel-accounts');
export const addAccount = (body) => request('POST', '/api/v1/channel-accounts', body);
export const editAccount = (kind, id, body) => request('PATCH', path(kind, id), body);
export const sendTestMessage = (kind, id, recipient, text) => request('POST', `${path(kind, id)}/test-message`, { recipient, text });
