// The Campaigns section's calls to the public API (/api/v1/campaigns...).
import { request } from '../../api.js';

const id = (value) => encodeURIComponent(String(value));

export const campaignsApi = {
  list: () => request('GET', '/api/v1/campaigns').then((data) => data.items),
  get: (campaign) => request('GET', `/api/v1/campaigns/${id(campaign)}`),
  preview: (body) => request('POST', '/api/v1/campaigns/preview', body),
  create: (body) => request('POST', '/api/v1/campaigns', body),
  act: (campaign, action) => request('POST', `/api/v1/campaigns/${id(campaign)}/${action}`),
  /** The e-mail opt-out list (the first 1000 addresses, in address order). */
  optOuts: () => request('GET', '/api/v1/email-opt-outs?limit=1000').then((data) => data.items),
  addOptOut: (address) => request('POST', '/api/v1/email-opt-outs', { address }),
  removeOptOut: (address) => request('DELETE', `/api/v1/email-opt-outs/${encodeURIComponent(address)}`),
  report: (campaign) => request('GET', `/api/v1/campaigns/${id(campaign)}/report`),
  /** Every recipient, a page of 1000 at a time. */
  async recipients(campaign) {
    const all = [];
    for (let after = 0; ;) {
      const page = (await request('GET', `/api/v1/campaigns/${id(campaign)}/recipients?after=${after}&limit=1000`)).items;
      all.push(...page);
      if (page.length < 1000) return all;
      after = page[page.length - 1].id;
    }
  },
};
