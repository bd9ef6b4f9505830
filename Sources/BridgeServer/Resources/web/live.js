// The live feed: one WebSocket to /api/v1/live (the session cookie authenticates it), resumed with
// ?after=<last applied seq> so the server replays what the page missed. It reconnects by itself,
// with exponential backoff and jitter, after a close, when the browser comes back online and when
// the tab becomes visible again (a laptop waking up). Everything it receives goes to the store.
import { api, UNAUTHORIZED } from './api.js';

const MAX_DELAY = 30000;
const VIEWING_EVERY = 30000; // the server lists a viewer for 60 s after each `viewing`
const TYPING_EVERY = 3000;

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
      if (this.socket?.readyState === WebSocket.OPEN) this.sendViewing();
      else this.reconnectNow();
    };
    this.heartbeat = null;
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
      this.store.setLive('connected');
      this.sendViewing();
    });
    socket.addEventListener('message', (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      this.receive(event);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      this.store.setLive('offline');
      // Offline: the browser's `online` event reconnects (no attempts that cannot succeed).
      if (!navigator.onLine) return;
      // A socket refused before it opened may mean the session ended: ask, so the sign-in comes back.
      if (!opened) api.me().catch((error) => { if (error.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED)); });
      this.schedule();
    });
  }

  receive(event) {
    switch (event.type) {
      case 'hello': {
        const reconnect = this.everConnected;
        this.everConnected = true;
        this.store.hello(event, reconnect);
        break;
      }
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
