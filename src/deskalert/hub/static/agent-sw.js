// deskalert agents' page: its service worker (scope /page/agent/). The page's own files (HTML,
// scripts, style, icons) come from the network when it answers and from the last copy when it
// does not, so the installed page still opens without network and queues a press, saying
// "ALERTE NON TRANSMISE" until the hub has it. The hub's answers (/v1/, /page/api/, /healthz)
// never come from a copy: alerts and who is coming must be live.
"use strict";
const SHELL = "deskalert-agent-shell-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const shell = request.method === "GET" && url.origin === self.location.origin
    && (url.pathname.endsWith("/page/agent/") || url.pathname.includes("/page/static/")
      || url.pathname.endsWith("/page/agent/manifest.webmanifest"));
  if (!shell) return;  // the network, as without a service worker
  event.respondWith(fetch(request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(SHELL).then((cache) => cache.put(url.pathname, copy));
    }
    return response;
  }).catch(() => caches.open(SHELL).then((cache) => cache.match(url.pathname))
    .then((copy) => copy || Response.error())));
});
