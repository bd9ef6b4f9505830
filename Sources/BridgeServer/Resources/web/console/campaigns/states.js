// What the section's pages say about a campaign's state.

/** Recipient states that are settled (nothing more will be sent to them). */
export const SETTLED = ['sent', 'delivered', 'read', 'failed', 'skipped', 'cancelled'];

/** How many of a campaign's recipients are settled. */
export function settled(campaign) {
  return SETTLED.reduce((sum, state) => sum + (campaign.progress?.[state] ?? 0), 0);
}

/** The label colour of a campaign status. */
export function statusClass(status) {
  return { running: 'warn', completed: 'ok', cancelled: 'bad', paused: 'warn' }[status] ?? '';
}

/** The actions a campaign in `status` allows (as the API's transitions do). */
export function actionsFor(status) {
  return {
    draft: ['start', 'cancel'], scheduled: ['start', 'pause', 'cancel'], running: ['pause', 'cancel'], paused: ['resume', 'cancel'],
  }[status] ?? [];
}
