// The page's only door to the bridge: JSON over fetch with the session cookie. Every answer that is
// not 2xx becomes an ApiError carrying the API's {"error":{code,message}}; a 401 outside signing in
// also tells the app (the session expired) so it can bring the sign-in back without losing state.
// `request` is exported for the console's sections, which keep their own calls beside them.

export class ApiError extends Error {
  constructor(status, code, message, body, retryAfter) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

/** Fired on window when a request is refused with 401 (the session ended or was revoked). */
export const UNAUTHORIZED = 'bridge:unauthorized';

export async function request(method, path, body, { quiet401 = false, file } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (file) {
    init.headers['Content-Type'] = file.type;
    init.body = file;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, 'network', error.message);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    const retry = Number(response.headers.get('Retry-After')) || undefined;
    const error = new ApiError(response.status, data?.error?.code, data?.error?.message, data, retry);
    if (response.status === 401 && !quiet401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED));
    throw error;
  }
  return data;
}

/** `a=1&b=two%20words`: the API reads `+` as a plus sign (phone numbers), never as a space, so
 *  values are percent-encoded throughout (URLSearchParams would write a space as `+`). */
export function queryString(params) {
  return Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
}

function query(params) {
  const text = queryString(params);
  return text ? `?${text}` : '';
}

const id = (value) => encodeURIComponent(String(value));

export const api = {
  signIn: (email, password) => request('POST', '/api/v1/auth/session', { email, password }, { quiet401: true }),
  signOut: () => request('DELETE', '/api/v1/auth/session', undefined, { quiet401: true }),
  me: () => request('GET', '/api/v1/me', undefined, { quiet401: true }),
  setAvailability: (agentId, availability) => request('PATCH', `/api/v1/agents/${id(agentId)}`, { availability }),
  agents: () => request('GET', '/api/v1/agents'),
  departments: () => request('GET', '/api/v1/departments'),
  views: () => request('GET', '/api/v1/views'),
  tickets: (params) => request('GET', `/api/v1/tickets${query(params)}`),
  ticket: (ticketId) => request('GET', `/api/v1/tickets/${id(ticketId)}`),
  /** A page of messages: the newest `limit` before message `before` (oldest first), `nextBefore`. */
  messages: (ticketId, { before, limit = 50 } = {}) => request('GET', `/api/v1/tickets/${id(ticketId)}/messages${query({ before, limit })}`),
  retry: (messageId) => request('POST', `/api/v1/messages/${id(messageId)}/retry`),
  counts: (filters) => request('POST', '/api/v1/tickets/counts', { filters }),
  draft: (ticketId) => request('GET', `/api/v1/tickets/${id(ticketId)}/draft`),
  saveDraft: (ticketId, draft) => request('PUT', `/api/v1/tickets/${id(ticketId)}/draft`, draft),
  deleteDraft: (ticketId) => request('DELETE', `/api/v1/tickets/${id(ticketId)}/draft`),
  notes: (ticketId) => request('GET', `/api/v1/tickets/${id(ticketId)}/notes`),
  history: (ticketId) => request('GET', `/api/v1/tickets/${id(ticketId)}/history`),
  events: (after, limit = 500) => request('GET', `/api/v1/events${query({ after, limit })}`),
  reply: (ticketId, body) => request('POST', `/api/v1/tickets/${id(ticketId)}/messages`, body),
  /** Stores an image (a File) for a reply: {id, url, contentType, bytes}; `url` goes in image.url. */
  upload: (file) => request('POST', '/api/v1/uploads', undefined, { file }),
  note: (ticketId, text) => request('POST', `/api/v1/tickets/${id(ticketId)}/notes`, { text }),
  claim: (ticketId) => request('POST', `/api/v1/tickets/${id(ticketId)}/claim`),
  update: (ticketId, changes) => request('PATCH', `/api/v1/tickets/${id(ticketId)}`, changes),
  markRead: (ticketId) => request('PUT', `/api/v1/tickets/${id(ticketId)}/read`),
  transfer: (ticketId, body) => request('POST', `/api/v1/tickets/${id(ticketId)}/transfer`, body),
  spam: (ticketId) => request('POST', `/api/v1/tickets/${id(ticketId)}/spam`),
  unspam: (ticketId) => request('DELETE', `/api/v1/tickets/${id(ticketId)}/spam`),
  merge: (ticketId, ticketIds) => request('POST', `/api/v1/tickets/${id(ticketId)}/merge`, { ticketIds }),
  split: (ticketId, messageIds) => request('POST', `/api/v1/tickets/${id(ticketId)}/split`, { messageIds }),
  bulk: (body) => request('POST', '/api/v1/tickets/bulk', body),
  transcriptURL: (ticketId) => `/api/v1/tickets/${id(ticketId)}/transcript`,
  contact: (contactId) => request('GET', `/api/v1/contacts/${id(contactId)}`),
  updateContact: (contactId, body) => request('PATCH', `/api/v1/contacts/${id(contactId)}`, body),
  linkContact: (contactId, otherId) => request('POST', `/api/v1/contacts/${id(contactId)}/links`, { contactId: otherId }),
  historyLink: (contactId) => request('POST', `/api/v1/contacts/${id(contactId)}/history-link`, {}),
  fields: () => request('GET', '/api/v1/fields'),
  canned: (ticketId) => request('GET', `/api/v1/canned-responses${query({ ticketId })}`),
  /** The approved message templates of a channel account (WhatsApp), for the template picker. */
  templates: (channel, account) => request('GET', `/api/v1/channels/${id(channel)}/templates${query({ account })}`),
  checkWords: (text) => request('POST', '/api/v1/forbidden-words/check', { text }),
  alerts: () => request('GET', '/api/v1/me/alerts'),
  setAlerts: (settings) => request('PUT', '/api/v1/me/alerts', settings),
  vapidKey: () => request('GET', '/api/v1/push/vapid-public-key'),
  pushSubscriptions: () => request('GET', '/api/v1/me/push-subscriptions'),
  subscribePush: (subscription) => request('POST', '/api/v1/me/push-subscriptions', subscription),
  unsubscribePush: (subscriptionId) => request('DELETE', `/api/v1/me/push-subscriptions/${id(subscriptionId)}`),
};
