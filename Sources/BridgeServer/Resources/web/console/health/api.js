// The Health section's calls.
import { request } from '../../api.js';

export const healthApi = {
  system: () => request('GET', '/api/v1/system'),
};
