// Web Push for the inbox: the service worker lives at /assets/<version>/sw.js, and this subscribes
// it with the bridge's VAPID key (POST /me/push-subscriptions) or unsubscribes it. Loaded by the
// alert settings, and on sign-out; `assets` is the bundle's folder (Alerts.assets).
import { api } from './api.js';

const supported = () => 'serviceWorker' in navigator && 'PushManager' in window;

/** The service worker lives at /assets/<version>/sw.js (its scope is that folder: enough for
 *  push, which needs no control over the page). Registrations of older versions are removed. */
async function register(assets) {
  const url = `${assets}/sw.js`;
  const scope = `${assets}/`;
  for (const old of await navigator.serviceWorker.getRegistrations()) {
    if (!old.scope.endsWith(scope)) {
      const sub = await old.pushManager.getSubscription().catch(() => null);
      if (sub) await forget(sub.endpoint).catch(() => {});
      await old.unregister();
    }
  }
  return navigator.serviceWorker.register(url, { scope });
}

async function forget(endpoint) {
  const { items } = await api.pushSubscriptions();
  const mine = items.find((s) => s.endpoint === endpoint);
  if (mine) await api.unsubscribePush(mine.id);
}

export async function pushState(assets) {
  if (!supported()) return 'unsupported';
  const registration = (await navigator.serviceWorker.getRegistrations()).find((r) => r.scope.endsWith(`${assets}/`));
  const sub = await registration?.pushManager.getSubscription().catch(() => null);
  if (!sub) return 'off';
  // On only when the bridge has it for this agent: the browser's subscription may be another
  // agent's who used this browser before, or one the bridge dropped.
  const { items } = await api.pushSubscriptions();
  return items.some((s) => s.endpoint === sub.endpoint) ? 'on' : 'off';
}

export async function setPush(assets, on) {
  const registration = await register(assets);
  const existing = await registration.pushManager.getSubscription();
  if (!on) {
    if (existing) { await forget(existing.endpoint).catch(() => {}); await existing.unsubscribe(); }
    return 'off';
  }
  const { publicKey } = await api.vapidKey();
  const subscribe = () => registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64url(publicKey) });
  try {
    await send(existing ?? await subscribe());
  } catch (error) {
    // The browser's subscription is another agent's (their session lapsed here without a sign-out):
    // this agent gets a fresh one; the old endpoint answers 410 and the bridge drops it.
    if (error.code !== 'endpoint_taken' || !existing) throw error;
    await existing.unsubscribe();
    await send(await subscribe());
  }
  return 'on';
}

/** Signing out: this browser stops receiving the agent's pushes, which carry customers' words to
 *  whoever uses it next. Runs while the session still stands (to tell the bridge); the browser
 *  unsubscribes even if the bridge cannot be told (its next push then meets a 410 and is dropped). */
export async function pushOff() {
  if (!supported()) return;
  for (const registration of await navigator.serviceWorker.getRegistrations()) {
    const sub = await registration.pushManager.getSubscription().catch(() => null);
    if (!sub) continue;
    await forget(sub.endpoint).catch(() => {});
    await sub.unsubscribe().catch(() => {});
  }
}

function send(sub) {
  const json = sub.toJSON();
  return api.subscribePush({ endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } });
}

function base64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
