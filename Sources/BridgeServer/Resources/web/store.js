// The one source of truth in the page. It holds what the page knows (tickets, conversations,
// presence, drafts, view counts), loads it through the API, and applies live events in
// sequence-number order: an event only says which ticket changed, and the store refetches that
// ticket (and its conversation when open) rather than patching anything from the socket.
// Components render from here and listen for 'change' events ({what: 'list' | 'ticket' |
// 'conversation' | 'presence' | 'live' | 'meta' | 'draft' | 'counts', ticketId?}).
import { api, queryString } from './api.js';

const PAGE = 50;
/** Typing is saved to the server this long after the last key (drafts follow the agent). */
const DRAFT_DELAY = 600;
/** View counts are asked for at most once a second, however many events arrive. */
const COUNTS_EVERY = 1000;

/** Built-in views; departments and saved views are added from the API. */
export const builtInViews = [
  { key: 'mine', label: 'views.mine', params: { view: 'mine', status: 'active' }, agentOnly: true },
  { key: 'unassigned', label: 'views.unassigned', params: { view: 'unassigned', status: 'active' } },
  { key: 'all', label: 'views.all', params: { status: 'active' } },
  { key: 'pending', label: 'views.pending', params: { status: 'pending' } },
  { key: 'resolved', label: 'views.resolved', params: { status: 'resolved' } },
  { key: 'spam', label: 'views.spam', params: { view: 'spam' } },
];

const ticketEvents = new Set(['ticket_opened', 'message', 'message_status', 'assigned', 'status', 'ticket_updated', 'note', 'history']);
/** Events that change nothing a list row shows. */
const conversationOnly = new Set(['message_status', 'note', 'history']);

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
    /** Extra list filters (channel, priority, tag) per view key, kept while the page is open. */
    this.viewFilters = new Map();
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
    this.refetches = new Map();
    this.listDirty = false;
    this.flushTimer = null;
    this.selected = new Set();
    this.selectAnchor = null;
    this.contacts = new Map();
    this.cannedCache = new Map();
    this.draftSync = new Map();
    this.counts = new Map();
    this.countsTimer = null;
    this.countsAt = 0;
    this.countsBusy = false;
  }

  emit(what, ticketId) {
    this.dispatchEvent(new CustomEvent('change', { detail: { what, ticketId } }));
  }

  get isAgent() { return typeof this.me?.id === 'number'; }

  /** Who the caller is, what the navigation needs and the first page of the list, all at once (a
   *  view's list parameters follow from its key alone); then the views' counts. */
  async boot(me, viewKey) {
    this.me = me;
    const fallback = this.isAgent ? 'mine' : 'all';
    this.viewKey = viewKey && this.paramsOf(viewKey) ? viewKey : fallback;
    const list = this.loadList();
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
    if (this.views().some((v) => v.key === this.viewKey)) await list;
    else await this.setView(fallback);
    this.refreshCounts();
  }

  /** A view's list parameters from its key (null: no such view for this caller). */
  paramsOf(key) {
    const builtIn = builtInViews.find((v) => v.key === key);
    if (builtIn) return builtIn.agentOnly && !this.isAgent ? null : builtIn.params;
    const [, kind, id] = /^(dept|view)-(\d+)$/.exec(key ?? '') ?? [];
    if (kind === 'dept') return { department: Number(id) };
    if (kind === 'view') return { view: Number(id) };
    return null;
  }

  views() {
    const views = builtInViews.filter((v) => this.isAgent || !v.agentOnly).map((v) => ({ ...v, group: 'main' }));
    // A restricted agent reads only its departments' queues: the others would always be empty.
    const departments = this.me?.departmentsOnly ? this.departments.filter((d) => (this.me.departments ?? []).includes(d.id)) : this.departments;
    for (const d of departments) views.push({ key: `dept-${d.id}`, name: d.name, params: { department: d.id, status: 'active' }, group: 'departments' });
    for (const v of this.savedViews) views.push({ key: `view-${v.id}`, name: v.name, params: { view: v.id }, group: 'saved' });
    return views;
  }

  /** The list's query. Longest waiting is the server's order (`sort=waiting`); a search is always
   *  newest match first (the API refuses `sort` with `q`). */
  listParams() {
    const q = this.q.trim() || undefined;
    return { ...(this.paramsOf(this.viewKey) ?? {}), ...this.filters(), q, sort: this.sort === 'waiting' && !q ? 'waiting' : undefined, limit: PAGE };
  }

  /** The current view's extra filters ({channel?, priority?, tag?}). */
  filters() { return this.viewFilters.get(this.viewKey) ?? {}; }

  /** Sets (or, with an empty value, removes) one filter of the current view and reloads the list. */
  async setFilter(name, value) {
    const filters = { ...this.filters() };
    if (value) filters[name] = value; else delete filters[name];
    if (filters[name] === this.filters()[name]) return;
    this.viewFilters.set(this.viewKey, filters);
    this.emit('filters');
    await this.loadList();
  }

  async setView(key) {
    this.viewKey = key;
    this.emit('filters');
    await this.loadList();
  }

  async setSearch(q) {
    if (q === this.q) return;
    this.q = q;
    await this.loadList();
  }

  async setSort(sort) {
    if (sort === this.sort) return;
    this.sort = sort;
    await this.loadList();
  }

  async loadList() {
    const request = ++this.listRequest;
    this.staleDuringLoad = false;
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
    // Events that came while this page was being read may not be in it: read the head again.
    if (this.staleDuringLoad) {
      this.staleDuringLoad = false;
      this.refreshListHead();
    }
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

  /** One refetch per key at a time. Asks made while one runs become a single run after it (the
   *  latest ask's, or the widest: a conversation's refetch includes its ticket's), so a burst of
   *  events shares a fetch and an older answer can never land after, and over, a newer one.
   *  Resolves once the state includes everything asked for so far. */
  serially(key, run, width = 0) {
    const running = this.refetches.get(key);
    if (running) {
      if (!running.next || width >= running.width) Object.assign(running, { next: run, width });
      return running.done;
    }
    const entry = { next: run, width };
    entry.done = (async () => {
      try {
        while (entry.next) {
          const step = entry.next;
          Object.assign(entry, { next: null, width: 0 });
          await step();
        }
      } finally {
        this.refetches.delete(key);
      }
    })();
    this.refetches.set(key, entry);
    return entry.done;
  }

  /** After live events: the first page again, merged in front of the pages already loaded. */
  refreshListHead() { return this.serially('list', () => this.fetchListHead()); }

  async fetchListHead() {
    if (this.list.loading && !this.list.loaded) { this.staleDuringLoad = true; return; }
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

  /** Keeps a ticket as the server answered it. Only GET /tickets/{id} tells the reply windows: an
   *  answer without them (a list page, a change) keeps the ones known. */
  setTicket(ticket) {
    const known = this.tickets.get(ticket.id);
    if (known?.replyWindows && !ticket.replyWindows) ticket.replyWindows = known.replyWindows;
    this.tickets.set(ticket.id, ticket);
  }

  remember(tickets) {
    for (const ticket of tickets) {
      this.setTicket(ticket);
      if (!ticket.contact.displayName) this.awaitName(ticket.id);
    }
  }

  /** A new contact's name comes from the platform's profile a moment after the ticket, and the event
   *  log has no entry for it (contacts are not logged): ask for the ticket again a few times. */
  awaitName(ticketId) {
    this.nameTries ??= new Map();
    const tries = this.nameTries.get(ticketId) ?? 0;
    if (tries >= 3 || this.nameTimers?.has(ticketId)) return;
    this.nameTimers ??= new Set();
    this.nameTimers.add(ticketId);
    this.nameTries.set(ticketId, tries + 1);
    setTimeout(() => {
      this.nameTimers.delete(ticketId);
      if (this.tickets.has(ticketId)) this.refreshTicket(ticketId).then(() => { const t = this.tickets.get(ticketId); if (t && !t.contact.displayName) this.awaitName(ticketId); });
    }, 700 * (tries + 1));
  }

  /** The list in the server's order (newest activity, or longest waiting: see listParams). */
  visibleIds() {
    return this.list.ids.filter((id) => this.tickets.has(id));
  }

  unreadCount() {
    return this.list.ids.filter((id) => this.tickets.get(id)?.unread).length;
  }

  async open(ticketId) {
    this.openId = ticketId;
    this.emit('open', ticketId);
    if (ticketId == null) return;
    this.loadDraft(ticketId);
    await this.refreshConversation(ticketId);
    const ticket = this.tickets.get(ticketId);
    if (this.isAgent && ticket?.unread) {
      try {
        this.setTicket(await api.markRead(ticketId));
        this.emit('ticket', ticketId);
        this.emit('list');
      } catch { /* read marks are a convenience */ }
    }
  }

  refreshTicket(ticketId) { return this.serially(`ticket-${ticketId}`, () => this.fetchTicket(ticketId)); }

  async fetchTicket(ticketId) {
    try {
      this.tickets.set(ticketId, await api.ticket(ticketId));
      this.emit('list');
    } catch (error) {
      if (error.status === 404 || error.status === 403) this.tickets.delete(ticketId);
    }
    this.emit('ticket', ticketId);
  }

  /** The ticket, its newest page of messages (older pages already loaded stay), notes and history. */
  refreshConversation(ticketId) { return this.serially(`ticket-${ticketId}`, () => this.fetchConversation(ticketId), 1); }

  async fetchConversation(ticketId) {
    try {
      const [ticket, page, notes, history] = await Promise.all([
        api.ticket(ticketId),
        api.messages(ticketId, { limit: PAGE }),
        api.notes(ticketId).catch(() => ({ items: [] })),
        api.history(ticketId).catch(() => ({ items: [] })),
      ]);
      this.tickets.set(ticketId, ticket);
      const { messages, nextBefore } = mergeNewest(this.conversations.get(ticketId), page);
      this.conversations.set(ticketId, { messages, nextBefore, notes: notes.items, history: history.items, error: null });
    } catch (error) {
      this.conversations.set(ticketId, { messages: [], nextBefore: null, notes: [], history: [], error: error.message });
    }
    this.emit('ticket', ticketId);
    this.emit('conversation', ticketId);
    this.emit('list');
  }

  /** The page of messages before the oldest one loaded (scrolling up a long conversation). */
  async loadOlder(ticketId) {
    const c = this.conversations.get(ticketId);
    if (!c?.nextBefore || c.loadingOlder) return;
    c.loadingOlder = true;
    try {
      const page = await api.messages(ticketId, { before: c.nextBefore, limit: PAGE });
      const now = this.conversations.get(ticketId);
      const known = new Set(now.messages.map((m) => m.id));
      now.messages = page.items.filter((m) => !known.has(m.id)).concat(now.messages);
      now.nextBefore = page.nextBefore ?? null;
      now.timeline = null;
    } catch { /* the next scroll asks again */ }
    c.loadingOlder = false;
    const now = this.conversations.get(ticketId);
    if (now) now.loadingOlder = false;
    this.emit('conversation', ticketId);
  }

  /** Messages, notes and history entries of a ticket, oldest first (computed once per change). While
   *  older messages are not loaded, notes and history from before them wait with them. */
  timeline(ticketId) {
    const c = this.conversations.get(ticketId);
    if (!c) return null;
    if (c.timeline) return c.timeline;
    const from = c.nextBefore && c.messages.length ? Date.parse(c.messages[0].createdAt) : -Infinity;
    const entry = (kind, prefix) => (x) => ({ key: `${prefix}${x.id}`, kind, at: x.createdAt, time: Date.parse(x.createdAt), data: x });
    const items = [
      ...c.messages.map(entry('message', 'm')),
      ...c.notes.map(entry('note', 'n')).filter((x) => x.time >= from),
      ...c.history.map(entry('history', 'h')).filter((x) => x.time >= from),
    ];
    // Timestamps parsed once above; the sort is stable, so equal times keep messages first in order.
    c.timeline = items.sort((a, b) => a.time - b.time);
    return c.timeline;
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
      } else if (reconnect) {
        // The replay brings what changed; counts may also have moved with tickets we never saw.
        this.refreshCounts();
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
    this.refreshCounts();
    this.flushDrafts();
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
    if (event.type === 'alert' || event.type === 'notification') {
      this.dispatchEvent(new CustomEvent('alert', { detail: event }));
      return;
    }
    if (event.type === 'ticket_hidden' && typeof event.ticketId === 'number') {
      this.hide(event.ticketId);
      return;
    }
    if (ticketEvents.has(event.type) && typeof event.ticketId === 'number') {
      this.pending.add(event.ticketId);
      if (!conversationOnly.has(event.type)) this.listDirty = true;
      if (event.type === 'message' && event.direction === 'in') this.dispatchEvent(new CustomEvent('customer-message', { detail: event }));
      // The contact's tags, fields, e-mail or identities may be what changed (EventLog.swift, v23, v24).
      if (event.type === 'ticket_updated' && event.ticketId === this.openId) this.contactStale = true;
      if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), 0);
      if (!conversationOnly.has(event.type)) this.refreshCounts();
    }
  }

  /** A ticket left the agent's reach (reassigned, moved to another department): drop it from view. */
  hide(ticketId) {
    this.tickets.delete(ticketId);
    this.list = { ...this.list, ids: this.list.ids.filter((id) => id !== ticketId) };
    this.selected.delete(ticketId);
    this.emit('list');
    this.emit('hidden', ticketId);
    this.refreshCounts();
  }

  // View counts ----------------------------------------------------------------------------------

  /** The filter each view is counted by; saved views that search words (`q`) cannot be counted. */
  countFilters() {
    const filters = {};
    for (const view of this.views()) {
      if (view.group === 'saved') {
        const saved = this.savedViews.find((v) => `view-${v.id}` === view.key);
        if (new URLSearchParams(saved?.filter ?? '').has('q')) continue;
      }
      if (this.uncountable?.has(view.key)) continue;
      filters[view.key] = queryString(view.params);
    }
    return filters;
  }

  /** Asks for the counts now, or once the second since the last ask is over (one ask at a time). */
  refreshCounts() {
    if (!this.me || this.countsTimer) return;
    const wait = Math.max(0, this.countsAt + COUNTS_EVERY - Date.now());
    this.countsTimer = setTimeout(() => this.loadCounts(), this.countsBusy ? COUNTS_EVERY : wait);
  }

  async loadCounts() {
    this.countsTimer = null;
    if (this.countsBusy) { this.refreshCounts(); return; }
    this.countsBusy = true;
    this.countsAt = Date.now();
    try {
      const filters = this.countFilters();
      if (Object.keys(filters).length) {
        const { counts } = await api.counts(filters);
        this.counts = new Map(Object.entries(counts));
        this.emit('counts');
      }
    } catch (error) {
      // A view the server will not count (`filters.<key>: ...`): leave it uncounted, ask again.
      const key = /filters\.([\w-]+)/.exec(error.message ?? '')?.[1];
      if (error.status === 422 && key && !this.uncountable?.has(key)) {
        (this.uncountable ??= new Set()).add(key);
        this.countsBusy = false;
        this.countsAt = 0;
        this.refreshCounts();
        return;
      }
    } finally {
      this.countsBusy = false;
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
    const contactId = this.tickets.get(this.openId)?.contact?.id;
    if (this.contactStale && contactId != null) this.contact(contactId, true).catch(() => {});
    this.contactStale = false;
    if (this.listDirty) {
      this.listDirty = false;
      this.refreshListHead();
    }
  }

  /** The contact of a ticket with its identities (cached; `fresh` reloads). */
  async contact(contactId, fresh = false) {
    if (!fresh && this.contacts.has(contactId)) return this.contacts.get(contactId);
    const contact = await api.contact(contactId);
    this.contacts.set(contactId, contact);
    this.emit('contact', contactId);
    return contact;
  }

  /** Adds and removes a contact's own tags; the answer is the contact as the server has it now. */
  async changeContactTags(contactId, addTags, removeTags) {
    const changed = await api.updateContact(contactId, { addTags, removeTags });
    // PATCH answers without the caller's counts and ratings (GET /contacts/{id} adds them): keep ours.
    this.contacts.set(contactId, { ...this.contacts.get(contactId), ...changed });
    this.emit('contact', contactId);
    return changed;
  }

  /** Canned responses filled in for a ticket (cached per ticket for the session of the composer). */
  async canned(ticketId) {
    if (!this.cannedCache.has(ticketId)) this.cannedCache.set(ticketId, api.canned(ticketId).then((r) => r.items).catch(() => []));
    return this.cannedCache.get(ticketId);
  }

  // Drafts: one per ticket, keyed by the ticket everywhere (memory, timers, the server's
  // /tickets/{id}/draft), so a draft can never follow the agent to another ticket; it does follow
  // the agent to another device. The in-memory copy is the one being typed: it is saved a moment
  // after the last key and kept when a save fails (a session that ended saves it after sign-in).

  draft(ticketId) { return this.drafts.get(ticketId) ?? { mode: 'reply', text: '' }; }

  /** A draft remembers the ticket's version when its text began: the reply is checked against what
   *  the agent had read when starting to write, not what arrived while typing (409 ticket_changed). */
  setDraft(ticketId, draft) {
    const before = this.draft(ticketId);
    const next = { ...before, ...draft };
    if (!before.text && draft.text) next.version = this.tickets.get(ticketId)?.version;
    if (!next.text) delete next.version;
    this.drafts.set(ticketId, next);
    if (next.text !== before.text || next.mode !== before.mode || next.channel !== before.channel) this.scheduleDraftSave(ticketId);
  }

  sync(ticketId) {
    if (!this.draftSync.has(ticketId)) this.draftSync.set(ticketId, { timer: null, revision: 0, saved: 0, chain: Promise.resolve() });
    return this.draftSync.get(ticketId);
  }

  /** Is there typing on this ticket the server does not have yet? */
  draftDirty(ticketId) {
    const s = this.draftSync.get(ticketId);
    return !!s && s.saved < s.revision;
  }

  scheduleDraftSave(ticketId) {
    if (!this.isAgent) return;
    const s = this.sync(ticketId);
    s.revision += 1;
    clearTimeout(s.timer);
    s.timer = setTimeout(() => this.saveDraft(ticketId), DRAFT_DELAY);
  }

  /** Saves the ticket's draft as it is now; saves of one ticket go one after another. */
  saveDraft(ticketId) {
    const s = this.sync(ticketId);
    clearTimeout(s.timer);
    s.timer = null;
    s.chain = s.chain.then(async () => {
      const revision = s.revision;
      if (s.saved >= revision) return;
      const draft = this.draft(ticketId);
      try {
        if (draft.text) await api.saveDraft(ticketId, { text: draft.text, mode: draft.mode ?? 'reply', channel: this.accountOf(ticketId, draft.channel) });
        else await api.deleteDraft(ticketId);
        s.saved = Math.max(s.saved, revision);
      } catch { /* kept in memory and dirty: saved again on the next key or after sign-in */ }
    });
    return s.chain;
  }

  /** After a sign-in or a reconnect: every draft typed while the server could not be told. */
  flushDrafts() {
    for (const ticketId of this.draftSync.keys()) if (this.draftDirty(ticketId)) this.saveDraft(ticketId);
  }

  /** The channel account (`kind/id`) a reply on channel kind goes to, from the ticket's identities. */
  accountOf(ticketId, kind) {
    if (!kind) return null;
    return (this.tickets.get(ticketId)?.replyWindows ?? []).find((w) => w.channel === kind)?.account ?? null;
  }

  /** The server's draft for a ticket being opened, unless the agent has typed here meanwhile. */
  async loadDraft(ticketId) {
    if (!this.isAgent || this.draftDirty(ticketId)) return;
    let saved;
    try { saved = await api.draft(ticketId); } catch { return; }
    if (this.draftDirty(ticketId)) return;
    const current = this.draft(ticketId);
    const text = saved?.text ?? '';
    const mode = saved?.mode ?? current.mode;
    const channel = saved?.channel ? saved.channel.split('/')[0] : undefined;
    if (text === current.text && mode === current.mode && channel === current.channel) return;
    const next = { ...current, text, mode, channel };
    if (text) next.version = current.text ? current.version : this.tickets.get(ticketId)?.version;
    else delete next.version;
    this.drafts.set(ticketId, next);
    this.emit('draft', ticketId);
  }

  /** Sent or discarded: empty here, and deleted on the server after any save still on its way. */
  clearDraft(ticketId) {
    this.drafts.set(ticketId, { mode: this.draft(ticketId).mode, text: '' });
    if (this.isAgent) {
      this.sync(ticketId).revision += 1;
      this.saveDraft(ticketId);
    }
    this.emit('draft', ticketId);
  }

  // Actions ----------------------------------------------------------------------------------------

  /** Sends a reply with the ticket's version as the agent saw it (409 ticket_changed when it moved). */
  async reply(ticketId, content, force = false) {
    const version = this.draft(ticketId).version ?? this.tickets.get(ticketId)?.version;
    const body = typeof content === 'string' ? { text: content } : content;
    try {
      await api.reply(ticketId, { ...body, version, force: force || undefined });
    } catch (error) {
      if (error.status === 409) await this.refreshConversation(ticketId);
      throw error;
    }
    await this.refreshConversation(ticketId);
  }

  /** Sends a failed message again (it goes back to `queued`). */
  async retry(ticketId, messageId) {
    await api.retry(messageId);
    await this.refreshConversation(ticketId);
  }

  async note(ticketId, text) {
    await api.note(ticketId, text);
    await this.refreshConversation(ticketId);
  }

  async act(ticketId, action) {
    await this.change(ticketId, () => (action === 'claim' ? api.claim(ticketId) : api.update(ticketId, { status: action })));
  }

  /** Runs one change through the API, then shows the ticket as the server has it now. */
  async change(ticketId, call) {
    const ticket = await call();
    if (ticket?.id === ticketId) this.setTicket(ticket);
    this.emit('ticket', ticketId);
    if (ticketId === this.openId) await this.refreshConversation(ticketId);
    this.refreshListHead();
    return ticket;
  }

  resolve(ticketId, resolutionReason) {
    return this.change(ticketId, () => api.update(ticketId, { status: 'resolved', ...(resolutionReason ? { resolutionReason } : {}) }));
  }

  transfer(ticketId, target) { return this.change(ticketId, () => api.transfer(ticketId, target)); }
  setPriority(ticketId, priority) { return this.change(ticketId, () => api.update(ticketId, { priority })); }
  addTags(ticketId, tags) { return this.change(ticketId, () => api.update(ticketId, { addTags: tags })); }
  removeTags(ticketId, tags) { return this.change(ticketId, () => api.update(ticketId, { removeTags: tags })); }
  spam(ticketId) { return this.change(ticketId, () => api.spam(ticketId)); }
  restore(ticketId) { return this.change(ticketId, () => api.unspam(ticketId)); }
  merge(ticketId, others) { return this.change(ticketId, () => api.merge(ticketId, others)); }
  split(ticketId, messageIds) { return this.change(ticketId, () => api.split(ticketId, messageIds)); }

  // Selection and mass actions -------------------------------------------------------------------

  /** Toggles one ticket in the selection; with `range`, everything between the last toggled one and it. */
  toggleSelected(ticketId, { range = false, on } = {}) {
    const ids = this.visibleIds();
    const value = on ?? !this.selected.has(ticketId);
    const targets = range && this.selectAnchor != null && ids.includes(this.selectAnchor)
      ? ids.slice(Math.min(ids.indexOf(this.selectAnchor), ids.indexOf(ticketId)), Math.max(ids.indexOf(this.selectAnchor), ids.indexOf(ticketId)) + 1)
      : [ticketId];
    for (const id of targets) value ? this.selected.add(id) : this.selected.delete(id);
    this.selectAnchor = ticketId;
    this.emit('selection');
  }

  clearSelection() {
    this.selected.clear();
    this.selectAnchor = null;
    this.emit('selection');
  }

  /** One action on the selected tickets (POST /tickets/bulk): the answer says which failed. */
  async bulk(action) {
    const ticketIds = [...this.selected];
    const result = await api.bulk({ ticketIds, ...action });
    const failed = new Set(result.items.filter((item) => !item.ok).map((item) => item.ticketId));
    this.selected = new Set(ticketIds.filter((id) => failed.has(id)));
    this.emit('selection');
    await Promise.all(ticketIds.map((id) => (id === this.openId ? this.refreshConversation(id) : this.refreshTicket(id))));
    await this.refreshListHead();
    return result;
  }
}

/** The newest page of messages put together with what is loaded: older pages stay when the page
 *  reaches them (its oldest message is one we have); otherwise the page starts afresh. */
function mergeNewest(old, page) {
  const nextBefore = page.nextBefore ?? null;
  if (!old || old.error || !old.messages.length || nextBefore == null || !page.items.length) return { messages: page.items, nextBefore };
  const at = old.messages.findIndex((m) => m.id === page.items[0].id);
  if (at === -1) return { messages: page.items, nextBefore };
  return { messages: old.messages.slice(0, at).concat(page.items), nextBefore: at === 0 ? nextBefore : old.nextBefore };
}
