// The inbox's service worker: only Web Push. The bridge sends {title, body, ticketId, event, count}
// (RFC 8291-encrypted, VAPID-signed); this shows it, and a click focuses an open inbox tab on the
// ticket or opens one. It controls no page (its scope is its own /assets/<version>/ folder), so it
// never sits between the page and the API.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = { body: event.data?.text() ?? '' }; }
  const title = data.title || 'Inbox';
  // renotify needs a tag (showNotification throws without one, and the push would show nothing).
  const tag = data.ticketId ? { tag: `ticket-${data.ticketId}`, renotify: true } : {};
  event.waitUntil(self.registration.showNotification(title, { body: data.body ?? '', ...tag, data: { ticketId: data.ticketId } }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const ticketId = event.notification.data?.ticketId;
  const target = ticketId ? `/inbox/#/all/${ticketId}` : '/inbox/';
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const inbox = windows.find((w) => new URL(w.url).pathname.startsWith('/inbox/'));
    if (inbox) {
      // The page is not controlled (navigate() would refuse): it listens for this message instead.
      inbox.postMessage({ type: 'open-ticket', ticketId });
      return inbox.focus();
    }
    return self.clients.openWindow(target);
  })());
});
