// Offline first for the page itself: the shell comes from the network when it can (so an update shows at
// once) and from this cache when it cannot. The API is never cached: it is private, and it must be live.
const CACHE = "review-shell-v1";
const SHELL = ["./", "app.js", "app.css", "icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin || url.pathname.includes("/api/")) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname.endsWith("/") ? "./" : request, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname.endsWith("/") ? "./" : request, { ignoreSearch: true })
        .then((hit) => hit || Response.error())),
  );
});
