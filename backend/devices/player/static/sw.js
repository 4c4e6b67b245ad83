// The board's service worker: the page, its script, the province keys and the last manifests come
// from the network when it answers and from this cache when it does not (marked with a header so
// the page knows it is offline); images come from the cache first, as they never change.
const CACHE = "keng-board-v1";
const base = self.registration.scope;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll([base + "player", base + "player.js", "/api/v1/keys/province"]))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function fromCache(key) {
  const hit = await (await caches.open(CACHE)).match(key);
  if (!hit) return Response.error();
  const headers = new Headers(hit.headers);
  headers.set("X-Keng-Offline", "1");
  return new Response(await hit.blob(), { status: hit.status, headers });
}

async function networkFirst(request) {
  const key = request.url.split("#")[0];
  try {
    const response = await fetch(request);
    if (response.status === 200) {
      const copy = response.clone();
      (await caches.open(CACHE)).put(key, copy);
    }
    return response;
  } catch (err) {
    return fromCache(key);
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok || response.type === "opaque") cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.destination === "image") {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (new URL(request.url).origin === self.location.origin) event.respondWith(networkFirst(request));
});
