// The Automation section's calls to the API (the rules and what a rule's form offers to pick).
import { request } from '../../api.js';

const id = (value) => encodeURIComponent(String(value));

export const automationApi = {
  rules: () => request('GET', '/api/v1/rules').then((answer) => answer.items),
  createRule: (rule) => request('POST', '/api/v1/rules', rule),
  updateRule: (ruleId, rule) => request('PUT', `/api/v1/rules/${id(ruleId)}`, rule),
  deleteRule: (ruleId) => request('DELETE', `/api/v1/rules/${id(ruleId)}`),
  reorderRules: (ids) => request('PUT', '/api/v1/rules/order', { ids }).then((answer) => answer.items),
  /** Which rules of `trigger` would fire on the ticket now (the server's own check; changes nothing). */
  trialRules: (ticketId, trigger) => request('POST', '/api/v1/rules/test', { ticketId, trigger }).then((answer) => answer.items),
  ticket: (ticketId) => request('GET', `/api/v1/tickets/${id(ticketId)}`),
  agents: () => request('GET', '/api/v1/agents').then((answer) => answer.items),
  departments: () => request('GET', '/api/v1/departments').then((answer) => answer.items),
  webhooks: () => request('GET', '/api/v1/webhooks').then((answer) => answer.items),
  addWebhook: (webhook) => request('POST', '/api/v1/webhooks', webhook),
  deleteWebhook: (webhookId) => request('DELETE', `/api/v1/webhooks/${id(webhookId)}`),
  deliveries: (webhookId) => request('GET', `/api/v1/webhooks/${id(webhookId)}/deliveries`).then((answer) => answer.items),
  /** Queues a copy of a delivery (same event and body, a new delivery id). */
  redeliver: (webhookId, deliveryId) => request('POST', `/api/v1/webhooks/${id(webhookId)}/deliveries/${id(deliveryId)}/redeliver`),
  fields: () => request('GET', '/api/v1/fields').then((answer) => answer.items),
  addField: (field) => request('POST', '/api/v1/fields', field),
  /** Deletes a field and its values; 409 field_in_use while a rule or a view names it. */
  deleteField: (fieldId) => request('DELETE', `/api/v1/fields/${id(fieldId)}`),
  views: () => request('GET', '/api/v1/views').then((answer) => answer.items),
  addView: (view) => request('POST', '/api/v1/views', view),
  deleteView: (viewId) => request('DELETE', `/api/v1/views/${id(viewId)}`),
  /** The spam filter: {threshold, configuredThreshold, thresholdSource, minimumTraining, spamTickets, hamTickets, active}. */
  spam: () => request('GET', '/api/v1/spam'),
  /** Sets the threshold (0.5 < t <= 1) every process screens with; null: bridge.yaml's. Answers the new state. */
  setSpamThreshold: (threshold) => request('PUT', '/api/v1/spam', { threshold }),
  cannedResponses: () => request('GET', '/api/v1/canned-responses').then((answer) => answer.items),
  addCannedResponse: (canned) => request('POST', '/api/v1/canned-responses', canned),
  updateCannedResponse: (cannedId, changes) => request('PATCH', `/api/v1/canned-responses/${id(cannedId)}`, changes),
  deleteCannedResponse: (cannedId) => request('DELETE', `/api/v1/canned-responses/${id(cannedId)}`),
  forbiddenWords: () => request('GET', '/api/v1/forbidden-words').then((answer) => answer.items),
  addForbiddenWord: (word) => request('POST', '/api/v1/forbidden-words', { word }).then((answer) => answer.items),
  deleteForbiddenWord: (word) => request('DELETE', `/api/v1/forbidden-words/${id(word)}`).then((answer) => answer.items),
};
