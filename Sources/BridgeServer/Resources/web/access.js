// What the signed-in caller may do, mirrored from the API's access policy (UniversalInbox's
// AccessPolicy.swift) so the page offers only actions the server would allow: a restricted agent
// (`departmentsOnly`) reads only its departments' tickets and its own; an `answerAssignedOnly`
// agent replies to and changes only its own; settings are for owners and admins. The server still
// decides; this only keeps refusals out of the agent's way.

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

/** Which ticket actions to offer for a ticket (the header's buttons and the keys). */
export function ticketActions(me, ticket) {
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
    historyLink: mayRead(me, ticket) && !me?.departmentsOnly,
  };
}
