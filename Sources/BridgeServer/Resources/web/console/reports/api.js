// The Reports section's calls: the service report for a run of local days in the viewer's time zone.
import { queryString, request } from '../../api.js';

/** GET /api/v1/reports/service: {days, firstResponse, resolution, agents, channels, busiestHours}. */
export function serviceReport({ from, to, timeZone }) {
  return request('GET', `/api/v1/reports/service?${queryString({ from, to, timeZone })}`);
}
