// Inbox's service worker: Web Push, and the inbox readable offline.
// Served by the site at /service-worker.js (scope "/"); the server fills in the
// placeholders below with the hashed app-shell URLs and a version derived from them.
"use strict";

const VERSION = "__VERSION__";
const SHELL_CACHE = `inbox-shell-${VERSION}`;
const PAGES_CACHE = "inbox-pages"; // the inbox pages as last seen, for offline viewing
const SHELL = ["__SHELL__"];
const OFFLINE_URL = "__OFFLINE_URL__";
const ICON_URL = "__ICON_URL__";
const BADGE_URL = "__BADGE_URL__";
const INBOX_PATH = "/inbox/";
const LOGOUT_PATH = "/accounts/logout/";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("inbox-shell-") && name !== SHELL_CACHE)
          .map((name) => caches.delete(name)),
      ))
      .then(() => self.clients.claim()),
  );
});

function isInboxPage(request, url) {
  return request.mode === "navigate" && url.pathname === INBOX_PATH;
}

async function networkFirst(request) {
  const cache = await caches.open(PAGES_CACHE);
  try {
    const response = await fetch(request);
    // Only a good, same-origin, final answer is kept: never an error or a login redirect.
    if (response.ok && response.type === "basic" && !response.redirected) {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    return (await cache.match(request))
      || (await cache.match(INBOX_PATH, { ignoreSearch: true }))
      || (await caches.match(OFFLINE_URL));
  }
}

async function navigationWithFallback(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return caches.match(OFFLINE_URL);
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === LOGOUT_PATH) {
    // Whoever logs in next must not see this user's cached inbox.
    event.waitUntil(caches.delete(PAGES_CACHE));
    return;
  }
  if (request.method !== "GET") return;
  if (isInboxPage(request, url)) event.respondWith(networkFirst(request));
  else if (request.mode === "navigate") event.respondWith(navigationWithFallback(request));
  else if (SHELL.includes(url.pathname)) event.respondWith(cacheFirst(request));
});

async function setAppBadge(count) {
  if (!("setAppBadge" in self.navigator)) return;
  try {
    if (count > 0) await self.navigator.setAppBadge(count);
    else await self.navigator.clearAppBadge();
  } catch (error) {
    // Badging is best effort: not every platform allows it.
  }
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { body: event.data.text() };
  }
  const title = data.title || "Inbox";
  const options = {
    body: data.body || "",
    icon: ICON_URL,
    badge: BADGE_URL,
    tag: data.id ? String(data.id) : "inbox",
    data: { url: data.url || INBOX_PATH, id: data.id || null, readToken: data.read_token || null },
  };
  event.waitUntil(Promise.all([
    self.registration.showNotification(title, options),
    typeof data.unread === "number" ? setAppBadge(data.unread) : Promise.resolve(),
  ]));
});

async function markRead(token) {
  if (!token) return;
  try {
    await fetch("/inbox/push/read/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token }),
      credentials: "same-origin",
    });
  } catch (error) {
    // Offline: the notification stays unread, which is the truth on the server.
  }
}

async function openOrFocus(href) {
  const target = new URL(href, self.location.origin);
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const exact = windows.find((client) => client.url === target.href);
  if (exact) return exact.focus();
  const ours = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (ours && target.origin === self.location.origin) {
    const focused = await ours.focus();
    return focused.navigate(target.href);
  }
  return self.clients.openWindow(target.href);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const { url, readToken } = event.notification.data || {};
  event.waitUntil(Promise.all([markRead(readToken), openOrFocus(url || INBOX_PATH)]));
});

self.addEventListener("pushsubscriptionchange", (event) => {
  // The push service replaced the subscription: store the new one in place of the old.
  const old = event.oldSubscription;
  event.waitUntil((async () => {
    const renewed = event.newSubscription
      || await self.registration.pushManager.subscribe(old ? old.options : { userVisibleOnly: true });
    await fetch("/inbox/push/renew/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ old_endpoint: old ? old.endpoint : null, subscription: renewed.toJSON() }),
      credentials: "same-origin",
    });
  })());
});
