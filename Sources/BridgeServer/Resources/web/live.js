// The live feed: one WebSocket to /api/v1/live (the session cookie authenticates it), resumed with
// ?after=<last applied seq> so the server replays what the page missed. It reconnects by itself,
// with exponential backoff and jitter, after a close, when the browser comes back online and when
// the tab becomes visible again (a laptop waking up). Everything it receives goes to the store.
// A socket can also die without a close (a laptop slept, a NAT or proxy dropped it half-open): the
// server sends a heartbeat every `hello.heartbeat` seconds, and a socket silent for SILENT_BEATS of
// them is taken for dead, dropped, and replaced (resuming from the last seq, like any reconnect).
import { api, UNAUTHORIZED } from './api.js';

const MAX_DELAY = 30000;
const VIEWING_EVERY = 30000; // the server lists a viewer for 60 s after each `viewing`
const TYPING_EVERY = 3000;
const SILENT_BEATS = 2.5; // one late heartbeat is not yet a dead socket; two and a half are

export class Live {
  constructor(store) {
    this.store = store;
    this.socket = null;
    this.attempts = 0;
    this.timer = null;
    this.stopped = true;
    this.everConnected = false;
    this.viewing = null;
    this.lastTyping = 0;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => { this.store.setLive('offline'); this.socket?.close(); };
    this.onVisible = () => {
      if (document.visibilityState !== 'visible') return;
      // After a sleep the watchdog's timer may not have run yet (timers stand still while the
      // machine sleeps; Date.now() does not): a socket silent for too long is given up at once.
      if (this.socket?.readyState === WebSocket.OPEN && this.silentAfter !== null && Date.now() - this.lastHeard > this.silentAfter) this.dead(this.socket);
      if (this.socket?.readyState === WebSocket.OPEN) this.sendViewing();
      else this.reconnectNow();
    };
    this.heartbeat = null;
    this.silence = null; // the watchdog: fires when the socket has said nothing for too long
    this.silentAfter = null; // ms; known once the server's hello announced its heartbeat
    this.lastHeard = 0;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.heartbeat = setInterval(() => this.sendViewing(), VIEWING_EVERY);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.silence);
    clearInterval(this.heartbeat);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const after = this.store.lastSeq;
    const url = `${scheme}//${location.host}/api/v1/live${after !== null ? `?after=${after}` : ''}`;
    this.store.setLive('connecting');
    let opened = false;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      opened = true;
      this.attempts = 0;
      this.heard(socket);
      this.store.setLive('connected');
      this.sendViewing();
    });
    socket.addEventListener('message', (message) => {
      if (this.socket !== socket) return;
      this.heard(socket);
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      this.receive(event);
    });
    socket.addEventListener('close', () => this.closed(socket, opened));
  }

  /** The socket ended (or was given up for dead): say so, and reconnect unless the page stopped. */
  closed(socket, opened) {
    if (this.socket !== socket) return;
    this.socket = null;
    clearTimeout(this.silence);
    if (this.stopped) return;
    this.store.setLive('offline');
    // Offline: the browser's `online` event reconnects (no attempts that cannot succeed).
    if (!navigator.onLine) return;
    // A socket refused before it opened may mean the session ended: ask, so the sign-in comes back.
    if (!opened) api.me().catch((error) => { if (error.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED)); });
    this.schedule();
  }

  /** Anything from the server shows the socket is alive: restart the watchdog. */
  heard(socket) {
    this.lastHeard = Date.now();
    clearTimeout(this.silence);
    if (this.silentAfter !== null) this.silence = setTimeout(() => this.dead(socket), this.silentAfter);
  }

  /** Gives up a socket that went silent. No close will come from a dead peer (and close() waits for
   *  its answer): let go of it first, so anything late from it is ignored, then reconnect as after a close. */
  dead(socket) {
    this.closed(socket, true);
    socket.close();
  }

  receive(event) {
    switch (event.type) {
      case 'hello': {
        // An older server announces no heartbeat: then silence proves nothing, and there is no watchdog.
        this.silentAfter = event.heartbeat > 0 ? event.heartbeat * 1000 * SILENT_BEATS : null;
        if (this.socket) this.heard(this.socket);
        const reconnect = this.everConnected;
        this.everConnected = true;
        this.store.hello(event, reconnect);
        break;
      }
      case 'heartbeat':
        // Its seq is where the server has served this socket up to (entries the agent may not read
        // are skipped): count it as applied, so a reconnect replays only what came after. A gap
        // cannot open on one ordered socket, so the heartbeat needs no catching up of its own.
        this.store.apply(event);
        break;
      case 'resync':
        this.store.resync();
        break;
      case 'error':
        if (event.code === 'access_revoked') window.dispatchEvent(new CustomEvent(UNAUTHORIZED));
        break;
      default:
        this.store.apply(event);
    }
  }

  schedule() {
    const delay = Math.min(MAX_DELAY, 500 * 2 ** this.attempts) * (0.5 + Math.random() / 2);
    this.attempts += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.socket?.readyState === WebSocket.OPEN || this.socket?.readyState === WebSocket.CONNECTING) return;
    this.attempts = 0;
    this.connect();
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** The ticket the agent has open (null: none); colleagues see it on theirs. */
  view(ticketId) {
    if (this.viewing != null && this.viewing !== ticketId) this.send({ type: 'left', ticketId: this.viewing });
    this.viewing = ticketId;
    this.sendViewing();
  }

  sendViewing() {
    if (this.viewing != null) this.send({ type: 'viewing', ticketId: this.viewing });
  }

  typing(ticketId) {
    const now = Date.now();
    if (now - this.lastTyping < TYPING_EVERY) return;
    this.lastTyping = now;
    this.send({ type: 'typing', ticketId });
  }
}
