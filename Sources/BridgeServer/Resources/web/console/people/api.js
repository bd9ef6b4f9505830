// The People section's calls to the API: agents, departments, business hours.
import { request } from '../../api.js';

const id = (value) => encodeURIComponent(String(value));

export const peopleApi = {
  agents: () => request('GET', '/api/v1/agents').then((answer) => answer.items),
  addAgent: (agent) => request('POST', '/api/v1/agents', agent),
  changeAgent: (agentId, changes) => request('PATCH', `/api/v1/agents/${id(agentId)}`, changes),
  /** A one-time link for the agent to choose its password: {token, path, expiresAt}, shown once. */
  invite: (agentId) => request('POST', `/api/v1/agents/${id(agentId)}/invite`),
  revokeTokens: (agentId) => request('DELETE', `/api/v1/agents/${id(agentId)}/tokens`),
  deactivate: (agentId) => request('POST', `/api/v1/agents/${id(agentId)}/deactivate`),
  reactivate: (agentId) => request('POST', `/api/v1/agents/${id(agentId)}/reactivate`),
  departments: () => request('GET', '/api/v1/departments').then((answer) => answer.items),
  addDepartment: (name) => request('POST', '/api/v1/departments', { name }),
  /** The default hours, or null when none are set (the API answers 404). */
  hours: () => request('GET', '/api/v1/business-hours').catch((error) => { if (error.status === 404) return null; throw error; }),
  setHours: (hours) => request('PUT', '/api/v1/business-hours', hours),
  /** A department's hours in force: its own, else the default hours, else null. */
  departmentHours: (departmentId) => request('GET', `/api/v1/departments/${id(departmentId)}/hours`)
    .catch((error) => { if (error.status === 404) return null; throw error; }),
  setDepartmentHours: (departmentId, hours) => request('PUT', `/api/v1/departments/${id(departmentId)}/hours`, hours),
  /** Removes the department's own hours: the default hours apply to it again. */
  clearDepartmentHours: (departmentId) => request('DELETE', `/api/v1/departments/${id(departmentId)}/hours`),
  /** Every channel account in force (bridge.yaml's and the console's), with its `departmentId`. */
  channelAccounts: () => request('GET', '/api/v1/channel-accounts').then((answer) => answer.items),
  /** Sends the account's new tickets to a department (null: none). */
  routeAccount: (account, departmentId) =>
    request('PUT', `/api/v1/channel-accounts/${id(account.kind)}/${id(account.id)}/department`, { departmentId }),
};
