// deskalert page: the minimal service worker that makes the page installable (PWA) and lets a
// phone show notifications. It caches nothing: alerts must come live from the hub, never from
// a stale copy.
"use strict";
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", () => {});  // network only
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data && event.notification.data.url || "./", self.registration.scope);
  event.waitUntil(self.clients.matchAll({type: "window"}).then((windows) => {
    for (const client of windows) {
      if (client.url.startsWith(self.registration.scope)) return client.focus();
    }
    return self.clients.openWindow(target.href);
  }));
});
