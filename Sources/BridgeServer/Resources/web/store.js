// The one source of truth in the page. It holds what the page knows (tickets, conversations,
// presence, drafts), loads it through the API, and applies live events in sequence-number order:
// an event only says which ticket changed, and the store refetches that ticket (and its
// conversation when open) rather than patching anything from the socket. Components render from
// here and listen for 'change' events ({what: 'list' | 'ticket' | 'conversation' | 'presence' |
// 'live' | 'meta' | 'draft', ticketId?}).
import { api } from './api.js';

const PAGE = 50;

/** Built-in views; departments and saved views are added from the API. */
export const builtInViews = [
  { key: 'mine', label: 'views.mine', params: { view: 'mine' }, agentOnly: true },
  { key: 'unassigned', label: 'views.unassigned', params: { view: 'unassigned' } },
  { key: 'all', label: 'views.all', params: {} },
  { key: 'pending', label: 'views.pending', params: { status: 'pending' } },
  { key: 'resolved', label: 'views.resolved', params: { status: 'resolved' } },
  { key: 'spam', label: 'views.spam', params: { view: 'spam' } },
];

const ticketEvents = new Set(['ticket_opened', 'message', 'message_status', 'assigned', 'status', 'ticket_updated']);

export class Store extends EventTarget {
  constructor() {
    super();
    this.me = null;
    this.agents = new Map();
    this.departments = [];
    this.savedViews = [];
    this.viewKey = null;
    this.sort = 'newest';
    this.q = '';
    this.list = { ids: [], nextCursor: null, loading: false, loaded: false, error: null };
    this.tickets = new Map();
    this.conversations = new Map();
    this.presence = new Map();
    this.drafts = new Map();
    this.openId = null;
    this.lastSeq = null;
    this.live = 'connecting';
    this.listRequest = 0;
    this.pending = new Set();
    this.listDirty = false;
    this.flushTimer = null;
  }

  emit(what, ticketId) {
    this.dispatchEvent(new CustomEvent('change', { detail: { what, ticketId } }));
  }

  get isAgent() { return typeof this.me?.id === 'number'; }

  /** Who the caller is and what the navigation needs; then the first page of the list. */
  async boot(me, viewKey) {
    this.me = me;
    const [agents, departments, views] = await Promise.all([
      api.agents().catch(() => ({ items: [] })),
      api.departments().catch(() => ({ items: [] })),
      api.views().catch(() => ({ items: [] })),
    ]);
    this.agents = new Map(agents.items.map((a) => [a.id, a]));
    if (this.isAgent) this.agents.set(me.id, me);
    this.departments = departments.items;
    this.savedViews = views.items.filter((v) => /^\d+$/.test(String(v.id)));
    this.emit('meta');
    await this.setView(this.views().some((v) => v.key === viewKey) ? viewKey : (this.isAgent ? 'mine' : 'all'));
  }

  views() {
    const views = builtInViews.filter((v) => this.isAgent || !v.agentOnly).map((v) => ({ ...v, group: 'main' }));
    for (const d of this.departments) views.push({ key: `dept-${d.id}`, name: d.name, params: { department: d.id }, group: 'departments' });
    for (const v of this.savedViews) views.push({ key: `view-${v.id}`, name: v.name, params: { view: v.id }, group: 'saved' });
    return views;
  }

  listParams() {
    const view = this.views().find((v) => v.key === this.viewKey) ?? { params: {} };
    return { ...view.params, q: this.q.trim() || undefined, limit: PAGE };
  }

  async setView(key) {
    this.viewKey = key;
    await this.loadList();
  }

  async setSearch(q) {
    if (q === this.q) return;
    this.q = q;
    await this.loadList();
  }

  setSort(sort) {
    this.sort = sort;
    this.emit('list');
  }

  async loadList() {
    const request = ++this.listRequest;
    this.list = { ids: [], nextCursor: null, loading: true, loaded: false, error: null };
    this.emit('list');
    try {
      const page = await api.tickets(this.listParams());
      if (request !== this.listRequest) return;
      this.remember(page.items);
      this.list = { ids: page.items.map((t) => t.id), nextCursor: page.nextCursor, loading: false, loaded: true, error: null };
    } catch (error) {
      if (request !== this.listRequest) return;
      this.list = { ...this.list, loading: false, error: error.message };
    }
    this.emit('list');
  }

  async loadMore() {
    if (!this.list.nextCursor || this.list.loading) return;
    const request = this.listRequest;
    this.list = { ...this.list, loading: true };
    this.emit('list');
    try {
      const page = await api.tickets({ ...this.listParams(), cursor: this.list.nextCursor });
      if (request !== this.listRequest) return;
      this.remember(page.items);
      const ids = this.list.ids.concat(page.items.map((t) => t.id).filter((id) => !this.list.ids.includes(id)));
      this.list = { ids, nextCursor: page.nextCursor, loading: false, loaded: true, error: null };
    } catch (error) {
      this.list = { ...this.list, loading: false, error: error.message };
    }
    this.emit('list');
  }

  /** After live events: the first page again, merged in front of the pages already loaded. */
  async refreshListHead() {
    const request = this.listRequest;
    try {
      const page = await api.tickets(this.listParams());
      if (request !== this.listRequest) return;
      this.remember(page.items);
      const head = page.items.map((t) => t.id);
      const onlyOnePage = this.list.ids.length <= PAGE;
      const tail = onlyOnePage ? [] : this.list.ids.slice(PAGE).filter((id) => !head.includes(id));
      this.list = { ...this.list, ids: head.concat(tail), nextCursor: onlyOnePage ? page.nextCursor : this.list.nextCursor, loaded: true };
      this.emit('list');
    } catch { /* the next event or reconnect tries again */ }
  }

  remember(tickets) {
    for (const ticket of tickets) this.tickets.set(ticket.id, ticket);
  }

  /** The list in the chosen order: the server's (newest activity), or longest waiting first. */
  visibleIds() {
    const ids = this.list.ids.filter((id) => this.tickets.has(id));
    if (this.sort !== 'waiting') return ids;
    const since = (id) => {
      const at = this.tickets.get(id).waitingSince;
      return at ? new Date(at).getTime() : Infinity;
    };
    return ids.slice().sort((a, b) => since(a) - since(b));
  }

  unreadCount() {
    return this.list.ids.filter((id) => this.tickets.get(id)?.unread).length;
  }

  async open(ticketId) {
    this.openId = ticketId;
    this.emit('open', ticketId);
    if (ticketId == null) return;
    await this.refreshConversation(ticketId);
    const ticket = this.tickets.get(ticketId);
    if (this.isAgent && ticket?.unread) {
      try {
        this.tickets.set(ticketId, await api.markRead(ticketId));
        this.emit('ticket', ticketId);
        this.emit('list');
      } catch { /* read marks are a convenience */ }
    }
  }

  async refreshTicket(ticketId) {
    try {
      this.tickets.set(ticketId, await api.ticket(ticketId));
    } catch (error) {
      if (error.status === 404 || error.status === 403) this.tickets.delete(ticketId);
    }
    this.emit('ticket', ticketId);
  }

  async refreshConversation(ticketId) {
    try {
      const [ticket, messages, notes, history] = await Promise.all([
        api.ticket(ticketId),
        api.messages(ticketId),
        api.notes(ticketId).catch(() => ({ items: [] })),
        api.history(ticketId).catch(() => ({ items: [] })),
      ]);
      this.tickets.set(ticketId, ticket);
      this.conversations.set(ticketId, { messages: messages.items, notes: notes.items, history: history.items, error: null });
    } catch (error) {
      this.conversations.set(ticketId, { messages: [], notes: [], history: [], error: error.message });
    }
    this.emit('ticket', ticketId);
    this.emit('conversation', ticketId);
    this.emit('list');
  }

  /** Messages, notes and history entries of a ticket, oldest first. */
  timeline(ticketId) {
    const c = this.conversations.get(ticketId);
    if (!c) return null;
    const items = [
      ...c.messages.map((m) => ({ key: `m${m.id}`, kind: 'message', at: m.createdAt, data: m })),
      ...c.notes.map((n) => ({ key: `n${n.id}`, kind: 'note', at: n.createdAt, data: n })),
      ...c.history.map((h) => ({ key: `h${h.id}`, kind: 'history', at: h.createdAt, data: h })),
    ];
    return items.sort((a, b) => new Date(a.at) - new Date(b.at) || a.key.localeCompare(b.key));
  }

  agentName(agentId) { return this.agents.get(Number(agentId))?.name; }

  // Live events ----------------------------------------------------------------------------------

  setLive(state) {
    if (state === this.live) return;
    this.live = state;
    this.emit('live');
  }

  /** The socket's greeting. With a sequence number, the server replays what came after ours; without
   *  one (an older server) or on a first connect, what the page holds may be stale: reload it. */
  hello(message, reconnect) {
    if (typeof message.seq === 'number') {
      if (this.lastSeq === null) {
        this.lastSeq = message.seq;
        if (reconnect) this.reloadAll();
      }
    } else if (reconnect) {
      this.reloadAll();
    }
  }

  /** The server could not replay from our sequence number: start again from its head. */
  resync() {
    this.lastSeq = null;
    this.reloadAll();
  }

  reloadAll() {
    this.loadList();
    if (this.openId != null) this.refreshConversation(this.openId);
  }

  /** Applies one event: ignores one already applied (a replay), then refetches what it touched. */
  apply(event) {
    if (typeof event.seq === 'number') {
      if (this.lastSeq !== null && event.seq <= this.lastSeq) return;
      this.lastSeq = event.seq;
    }
    if (event.type === 'presence') {
      const others = (event.agents || []).filter((a) => a.agentId !== this.me?.id);
      this.presence.set(event.ticketId, others);
      this.emit('presence', event.ticketId);
      return;
    }
    if (ticketEvents.has(event.type) && typeof event.ticketId === 'number') {
      this.pending.add(event.ticketId);
      if (event.type !== 'message_status') this.listDirty = true;
      if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), 0);
    }
  }

  /** Events applied in one turn of the event loop share one refetch per ticket. */
  flush() {
    this.flushTimer = null;
    const ids = [...this.pending];
    this.pending.clear();
    for (const id of ids) {
      if (id === this.openId) this.refreshConversation(id);
      else if (this.tickets.has(id)) this.refreshTicket(id);
    }
    if (this.listDirty) {
      this.listDirty = false;
      this.refreshListHead();
    }
  }

  // Drafts: one per ticket, in memory, so a draft can never follow the agent to another ticket. ------

  draft(ticketId) { return this.drafts.get(ticketId) ?? { mode: 'reply', text: '' }; }

  setDraft(ticketId, draft) {
    this.drafts.set(ticketId, { ...this.draft(ticketId), ...draft });
  }

  clearDraft(ticketId) { this.drafts.set(ticketId, { mode: this.draft(ticketId).mode, text: '' }); this.emit('draft', ticketId); }

  // Actions ----------------------------------------------------------------------------------------

  /** Sends a reply with the ticket's version as the agent saw it (409 ticket_changed when it moved). */
  async reply(ticketId, text, force = false) {
    const version = this.tickets.get(ticketId)?.version;
    try {
      await api.reply(ticketId, { text, version, force: force || undefined });
    } catch (error) {
      if (error.status === 409) await this.refreshConversation(ticketId);
      throw error;
    }
    await this.refreshConversation(ticketId);
  }

  async note(ticketId, text) {
    await api.note(ticketId, text);
    await this.refreshConversation(ticketId);
  }

  async act(ticketId, action) {
    const ticket = action === 'claim' ? await api.claim(ticketId) : await api.update(ticketId, { status: action });
    this.tickets.set(ticketId, ticket);
    this.emit('ticket', ticketId);
    await this.refreshConversation(ticketId);
    this.refreshListHead();
  }
}
