// Alerts in the page. The server decides what is worth an alert for this agent (`/me/alerts`:
// new tickets, customer messages, assignments, long waits; medium `desktop` = an `alert` event on
// the live feed), and every open tab of the agent receives it. One tab only — the leader, chosen
// with a Web Lock that passes to another tab when the leader closes — plays the sound and shows the
// desktop notification; the tabs tell each other about settings on a BroadcastChannel. Web Push
// (the service worker sw.js, subscribed from push.js, which the alert settings load) brings alerts when
// no tab is open.
import { t } from './i18n.js';

const LOCK = 'inbox-alert-leader';
const SOUND_KEY = 'inbox.alertSound';
const DESKTOP_KEY = 'inbox.desktopAlerts';

export class Alerts extends EventTarget {
  constructor(store) {
    super();
    this.store = store;
    // The bundle's folder, /assets/<version> (this module is served from it).
    this.assets = new URL('.', import.meta.url).pathname.replace(/\/$/, '');
    this.leader = false;
    this.played = 0;
    this.channel = 'BroadcastChannel' in window ? new BroadcastChannel('inbox-alerts') : null;
    this.channel?.addEventListener('message', (event) => {
      if (event.data?.type === 'settings') this.emit();
    });
    this.onAlert = (event) => this.alert(event.detail);
    navigator.serviceWorker?.addEventListener('message', (event) => {
      if (event.data?.type === 'open-ticket' && event.data.ticketId) this.dispatchEvent(new CustomEvent('open-ticket', { detail: event.data.ticketId }));
    });
    store.addEventListener('alert', this.onAlert);
    this.elect();
  }

  emit() { this.dispatchEvent(new Event('change')); }

  /** Waits for the leader lock; holds it until the tab goes away (or stop()). */
  elect() {
    if (!navigator.locks) { this.leader = true; return; }
    this.abort = new AbortController();
    navigator.locks.request(LOCK, { signal: this.abort.signal }, () => {
      this.leader = true;
      this.emit();
      return new Promise((resolve) => { this.release = resolve; });
    }).catch(() => { /* aborted on sign-out */ });
  }

  stop() {
    this.store.removeEventListener('alert', this.onAlert);
    this.abort?.abort();
    this.release?.();
    this.channel?.close();
    this.leader = false;
  }

  get soundOn() { return localStorage.getItem(SOUND_KEY) !== 'off'; }
  set soundOn(on) { localStorage.setItem(SOUND_KEY, on ? 'on' : 'off'); this.channel?.postMessage({ type: 'settings' }); this.emit(); }

  get desktopSupported() { return 'Notification' in window; }
  get desktopOn() { return this.desktopSupported && Notification.permission === 'granted' && localStorage.getItem(DESKTOP_KEY) === 'on'; }

  /** Asks for the permission (must run from a click) and remembers the agent's choice. */
  async setDesktop(on) {
    if (on && this.desktopSupported && Notification.permission !== 'granted') await Notification.requestPermission();
    localStorage.setItem(DESKTOP_KEY, on && Notification.permission === 'granted' ? 'on' : 'off');
    this.channel?.postMessage({ type: 'settings' });
    this.emit();
    return this.desktopOn;
  }

  /** An alert from the live feed: the leader tab rings and notifies; the others stay quiet. */
  alert(event) {
    if (!this.leader) return;
    this.played += 1;
    document.documentElement.dataset.alerts = String(this.played);
    if (this.soundOn) this.ring();
    const looking = document.visibilityState === 'visible' && this.store.openId === event.ticketId;
    if (this.desktopOn && !looking) {
      const n = new Notification(event.title || t('app.title'), { body: event.body ?? event.text ?? '', tag: `ticket-${event.ticketId}` });
      n.addEventListener('click', () => {
        window.focus();
        this.dispatchEvent(new CustomEvent('open-ticket', { detail: event.ticketId }));
        n.close();
      });
    }
  }

  ring() {
    this.audio ??= new Audio(`${this.assets}/sounds/alert.wav`);
    this.audio.currentTime = 0;
    this.audio.play().catch(() => { /* autoplay refused until the agent interacts: the title still counts */ });
  }
}
