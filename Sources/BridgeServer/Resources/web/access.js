// What the signed-in caller may do, mirrored from the API's access policy (UniversalInbox's
// AccessPolicy.swift) so the page offers only actions the server would allow: a restricted agent
// (`departmentsOnly`) reads only its departments' tickets and its own; an `answerAssignedOnly`
// agent replies to and changes only its own; a contact is reached through its tickets (one of
// them for the contact, every one for its whole history or to be linked into another contact);
// settings are for owners and admins. Every offered action, button, key, menu item and dialog
// choice, asks here. The server still decides; this only keeps refusals out of the agent's way.

/** Owners and admins (and the admin token) manage settings. */
export function managesSettings(me) {
  return me?.role === 'owner' || me?.role === 'admin';
}

function own(me, ticket) {
  return ticket?.agentId != null && ticket.agentId === me?.id;
}

/** Read the ticket, its messages, notes and history; claim it; add notes. */
export function mayRead(me, ticket) {
  if (!ticket) return false;
  if (me?.departmentsOnly && !own(me, ticket)) return (me.departments ?? []).includes(ticket.departmentId);
  return true;
}

/** Reply, change status, priority or tags, transfer, merge, split, spam. */
export function mayAnswer(me, ticket) {
  if (!mayRead(me, ticket)) return false;
  if (me?.answerAssignedOnly && !own(me, ticket)) return false;
  return true;
}

/** A restriction that limits `level` ('read' or 'answer') for this caller (Inbox.authorize's test). */
function restricted(me, level) {
  return Boolean(me?.departmentsOnly || (level === 'answer' && me?.answerAssignedOnly));
}

/** Reach a contact (GET /contacts/{id}, with its `ticketAccess` counts) at `level`: through one of
 *  its tickets, or with `whole` through every one (its history link, absorbing it by a link). A
 *  restricted caller's ticket list hides what it may not read, so the counts come from the API. */
export function mayReachContact(me, contact, level, { whole = false } = {}) {
  if (!restricted(me, level)) return true;
  const counts = contact?.ticketAccess;
  if (!counts) return false;
  const reachable = level === 'read' ? counts.readable : counts.answerable;
  return whole ? counts.total > 0 && reachable === counts.total : reachable > 0;
}

/** Link `other` into `contact` (POST /contacts/{contact}/links): `other`'s tickets all move over. */
export function mayLink(me, contact, other) {
  return contact?.id !== other?.id && mayReachContact(me, contact, 'answer') && mayReachContact(me, other, 'answer', { whole: true });
}

/** The tickets that may be merged into `ticket`: the same contact's other open ones, each answerable. */
export function mergeCandidates(me, ticket, tickets) {
  if (!mayAnswer(me, ticket)) return [];
  return tickets.filter((x) => x.id !== ticket.id && x.contact?.id === ticket.contact?.id
    && !['closed', 'spam'].includes(x.status) && x.mergedInto == null && mayAnswer(me, x));
}

/** Which ticket actions to offer for a ticket (the header's buttons and the keys); `contact` is
 *  the ticket's contact as loaded (the history link needs it). */
export function ticketActions(me, ticket, contact) {
  const agent = typeof me?.id === 'number';
  const answer = mayAnswer(me, ticket);
  const status = ticket?.status;
  const closed = status === 'closed';
  const spam = status === 'spam';
  const finished = closed || spam || status === 'resolved';
  return {
    claim: agent && mayRead(me, ticket) && ticket.agentId == null && !closed,
    reply: answer && !closed && !spam,
    transfer: answer && !closed,
    pending: answer && !finished && status !== 'pending',
    resolve: answer && !finished,
    reopen: answer && (status === 'resolved' || status === 'pending'),
    spam: answer && !spam && !closed,
    restore: answer && spam,
    priority: answer && !closed,
    tags: answer && !closed,
    merge: answer && !closed && !spam,
    split: answer && !closed && !spam,
    transcript: mayRead(me, ticket),
    // The history link shows every ticket of the contact: a restricted agent may not reach them all.
    historyLink: mayRead(me, ticket) && mayReachContact(me, contact?.id === ticket?.contact?.id ? contact : null, 'read', { whole: true }),
  };
}
