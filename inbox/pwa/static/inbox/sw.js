// Inbox's service worker handlers: Web Push, and the inbox readable offline.
// Served by inbox.pwa.views.handlers (URL name inbox:sw), which fills in the placeholders below:
// the hashed app-shell URLs, a version derived from them, and every URL it needs (reversed from
// the site's URL configuration, never written here). It is the service worker itself (scope
// "/"), or a site's own worker imports it: importScripts("<the URL of inbox:sw>").
"use strict";

const VERSION = "__VERSION__";
const SHELL_CACHE = `inbox-shell-${VERSION}`;
const PAGES_CACHE = "inbox-pages"; // one user's inbox pages as last seen, for offline viewing
const SHELL = ["__SHELL__"];
const OFFLINE_URL = "__OFFLINE_URL__";
const OFFLINE_DROPDOWN_URL = "__OFFLINE_DROPDOWN_URL__";
const ICON_URL = "__ICON_URL__";
const BADGE_URL = "__BADGE_URL__";
const INBOX_URL = "__INBOX_URL__";
const DROPDOWN_URL = "__DROPDOWN_URL__";
const PUSH_READ_URL = "__PUSH_READ_URL__";
const PUSH_RENEW_URL = "__PUSH_RENEW_URL__";
const LOGIN_URLS = ["__LOGIN_URLS__"];
const LOGOUT_URLS = ["__LOGOUT_URLS__"];
const OWNER_HEADER = "__OWNER_HEADER__"; // whose a response is (opaque); absent: nobody's
const EXPIRES_HEADER = "__EXPIRES_HEADER__"; // when that user's session ends (epoch seconds)
const FILTERS = ["__FILTERS__"]; // the dashboard's filters
const DEFAULT_FILTER = "__DEFAULT_FILTER__"; // what /inbox/ without a filter shows
const SAVED_HEADER = "__SAVED_HEADER__"; // on a fragment this worker answered from its cache
// The owner and session end of what PAGES_CACHE holds, stored beside the pages.
const OWNER_KEY = new URL("inbox-pages-owner", self.registration.scope).href;
const UNREACHABLE = [502, 503, 504]; // a proxy's answer when the site is down

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

// --- Whose pages the cache holds -----------------------------------------------------------

function ownerOf(response) {
  return {
    owner: response.headers.get(OWNER_HEADER) || "",
    expires: Number(response.headers.get(EXPIRES_HEADER)) || 0,
  };
}

async function cachedOwner() {
  if (!(await caches.has(PAGES_CACHE))) return null;
  const saved = await (await caches.open(PAGES_CACHE)).match(OWNER_KEY);
  return saved ? saved.json() : null;
}

function forgetPages() {
  return caches.delete(PAGES_CACHE);
}

// A site's answer that shows someone else, or nobody (the login page, a logged-out page),
// drops the saved pages before the page is shown. An opaque redirect (a navigation's 302) or
// a proxy's 5xx says nothing about who is logged in.
async function checkOwner(response) {
  if (response.type !== "basic" || response.status >= 500) return;
  const saved = await cachedOwner();
  if (saved && saved.owner !== ownerOf(response).owner) await forgetPages();
}

async function savePage(key, response) {
  const { owner, expires } = ownerOf(response);
  if (!owner || !expires) return; // never keep a page that is nobody's
  const saved = await cachedOwner();
  if (saved && saved.owner !== owner) await forgetPages();
  const cache = await caches.open(PAGES_CACHE);
  await cache.put(OWNER_KEY, new Response(JSON.stringify({ owner, expires })));
  await cache.put(key, response);
}

// A saved copy under `key`, if the cache's owner is still within their session.
async function savedCopy(key) {
  const saved = await cachedOwner();
  if (!saved) return undefined;
  if (!(saved.expires > Date.now() / 1000)) {
    await forgetPages(); // the session has ended: its pages go with it
    return undefined;
  }
  return (await caches.open(PAGES_CACHE)).match(key, { ignoreVary: true });
}

// --- Inbox pages ---------------------------------------------------------------------------

// The one key a dashboard page is saved under: its filter's first page, with its kind and level
// ("/inbox/" and "?filter=all" are the same page; "?kind=mention" is another, so offline it shows
// its own saved copy or the offline page, never the unfiltered list). null for a filter the
// dashboard does not know.
const PAGE_PARAMS = ["filter", "kind", "level"];

function pageKey(url) {
  const filter = url.searchParams.get("filter") || DEFAULT_FILTER;
  if (!FILTERS.includes(filter)) return null;
  const key = new URL(INBOX_URL, self.location.origin);
  key.searchParams.set("filter", filter);
  for (const name of ["kind", "level"]) {
    const value = url.searchParams.get(name);
    if (value) key.searchParams.set(name, value);
  }
  return key.href;
}

function isFirstPage(url) {
  return [...url.searchParams.keys()].every((name) => PAGE_PARAMS.includes(name));
}

// A copy of a saved response with another body (and no stale length) and extra headers.
function copyOf(response, body, extraHeaders = {}) {
  const headers = new Headers(response.headers);
  headers.delete("Content-Length");
  for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

// A page answered from the cache says so: <html data-inbox-saved>, which pwa.js reads.
async function markedSaved(response) {
  const html = (await response.text()).replace(/<html(?=[\s>])/i, "<html data-inbox-saved");
  return copyOf(response, html);
}

async function offlinePage() {
  return (await caches.match(OFFLINE_URL)) || Response.error();
}

async function inboxPage(request, url) {
  const key = pageKey(url);
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    response = null;
  }
  if (response && !UNREACHABLE.includes(response.status)) {
    await checkOwner(response);
    // Only a good, final first page is kept: never an error, a redirect or a later page.
    if (key && response.ok && response.type === "basic" && isFirstPage(url)) {
      await savePage(key, response.clone());
    }
    return response;
  }
  // The server cannot be reached: this filter's saved first page, or the offline page.
  // Never another filter's page, nor anybody else's.
  const saved = key && (await savedCopy(key));
  if (saved) return markedSaved(saved);
  return response || offlinePage();
}

async function otherPage(request) {
  try {
    const response = await fetch(request);
    await checkOwner(response);
    return response;
  } catch (error) {
    return offlinePage();
  }
}

async function postedPage(request) {
  const response = await fetch(request);
  await checkOwner(response);
  return response;
}

// The bell's dropdown: the network's, else the one saved for this user, else a short note.
async function dropdown(request) {
  const key = new URL(DROPDOWN_URL, self.location.origin).href;
  try {
    const response = await fetch(request);
    if (!UNREACHABLE.includes(response.status)) {
      await checkOwner(response);
      if (response.ok && response.type === "basic") await savePage(key, response.clone());
      return response;
    }
  } catch (error) {
    // fall through to the saved copy
  }
  const saved = (await savedCopy(key)) || (await caches.match(OFFLINE_DROPDOWN_URL));
  if (!saved) return Response.error();
  return copyOf(saved, await saved.text(), { [SAVED_HEADER]: "true" });
}

// An htmx request for a part of the inbox: its answer may show another user.
async function fragment(request) {
  const response = await fetch(request);
  await checkOwner(response);
  return response;
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  return cached || fetch(request);
}

// --- Logging in and out --------------------------------------------------------------------

async function forgetPush() {
  try {
    const subscription = await self.registration.pushManager.getSubscription();
    if (subscription) await subscription.unsubscribe();
  } catch (error) {
    // Nothing to unsubscribe, or no push service: the server forgets it on logout anyway.
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST") {
    // Whoever is logged in next must not see this user's saved pages, nor get their pushes.
    if (LOGOUT_URLS.includes(url.pathname)) event.waitUntil(Promise.all([forgetPages(), forgetPush()]));
    else if (LOGIN_URLS.includes(url.pathname)) event.waitUntil(forgetPages());
    // Any other form that loads a page may log someone in (a single sign-on's POST, "log in
    // as"): its answer is checked like a link's. No offline page here: a form that cannot be
    // sent shows the browser's own error, as it would without this worker.
    else if (request.mode === "navigate") event.respondWith(postedPage(request));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    // Every page's answer is checked (checkOwner), whatever logged its user in.
    if (url.pathname === INBOX_URL) event.respondWith(inboxPage(request, url));
    else event.respondWith(otherPage(request));
  } else if (request.headers.has("HX-Request")) {
    // The inbox's fragments (a tab, "load more") and the bell's dropdown; the badge poll
    // goes straight to the network.
    if (url.pathname === DROPDOWN_URL) event.respondWith(dropdown(request));
    else if (url.pathname === INBOX_URL) event.respondWith(fragment(request));
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});

// --- Push ----------------------------------------------------------------------------------

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
    data: { url: data.url || INBOX_URL, id: data.id || null, readToken: data.read_token || null },
  };
  event.waitUntil(Promise.all([
    self.registration.showNotification(title, options),
    typeof data.unread === "number" ? setAppBadge(data.unread) : Promise.resolve(),
  ]));
});

// A page whose socket says notifications were read elsewhere (another tab or device) posts
// {type: "inbox:read", tags, all, badge}: close the OS notifications shown for them (their tag is
// the notification's id, as "push" sets it; `all`: every one, all were marked read) and set the
// app badge. No unread left (badge 0): close them all too.
const MAX_TAGS = 500;

async function closeNotifications(tags, all) {
  const wanted = new Set(tags);
  const shown = await self.registration.getNotifications();
  shown.filter((notification) => all || wanted.has(notification.tag)).forEach((n) => n.close());
}

self.addEventListener("message", (event) => {
  const data = event.data;
  if (!data || data.type !== "inbox:read") return;
  const tags = Array.isArray(data.tags)
    ? data.tags.filter((tag) => typeof tag === "string").slice(0, MAX_TAGS)
    : [];
  const badge = Number.isInteger(data.badge) && data.badge >= 0 ? data.badge : null;
  event.waitUntil(Promise.all([
    closeNotifications(tags, data.all === true || badge === 0),
    badge === null ? Promise.resolve() : setAppBadge(badge),
  ]));
});

async function markRead(token) {
  if (!token) return;
  try {
    await fetch(PUSH_READ_URL, {
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
  event.waitUntil(Promise.all([markRead(readToken), openOrFocus(url || INBOX_URL)]));
});

// The push service replaced the subscription: store the new one in place of the old, proving
// with the old one's auth secret that this browser held it. Without the old subscription there
// is nothing to prove that with: the page asks again on the next visit.
async function renewSubscription(old, renewed) {
  if (!old) return null;
  const oldAuth = old.toJSON().keys?.auth; // base64url, as push.js sends it
  if (!oldAuth) return null;
  const subscription = renewed || await self.registration.pushManager.subscribe(old.options);
  return fetch(PUSH_RENEW_URL, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ old_endpoint: old.endpoint, old_auth: oldAuth, subscription: subscription.toJSON() }),
    credentials: "same-origin",
  });
}

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(renewSubscription(event.oldSubscription, event.newSubscription).catch(() => null));
});
