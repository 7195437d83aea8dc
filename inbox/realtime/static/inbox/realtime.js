// Real time: the page's socket is inbox/live.html's [data-live] element, which htmx's hx-ws
// extension connects, reconnects (backoff with jitter) and pauses in background tabs. Each frame
// is one JSON object per event, {"content": "<html>", "badge": n, "read": [tags], "all_read": true}:
// hx-ws swaps its "content" (the server's rendered partials, out of band). This script builds
// no markup. It tells the server what the page shows (a "hello" on every connect, answered with
// what the page missed, and a "state" when that changes: the dropdown opened, another filter,
// more items loaded), rests the badge's polling while the socket is up (poll.js reads
// [data-live][data-connected]), names this tab on its own requests (X-Inbox-Tab) so the server
// does not send its changes back to it, and hands the frame's other fields to the service
// worker, which closes the OS notifications read elsewhere and sets the app badge.
(() => {
  "use strict";

  const MAX_SHOWN = 200; // the server reads at most this many shown items
  const ITEM_PREFIX = "notification-"; // the dashboard item's id: notification-<pk>

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  const tab = randomId();
  let connection = null; // hx-ws's connection while its socket is open

  // What this page shows: the dashboard's filter (and kind and level), whether its list starts at the newest item,
  // the newest item's cursor, the items on it, whether the dropdown is open.
  function pageState(type) {
    const list = document.getElementById("inbox-list");
    const items = list ? [...list.querySelectorAll(`li[id^="${ITEM_PREFIX}"]`)] : [];
    return {
      type,
      tab,
      csrf: document.querySelector('meta[name="csrf-token"]')?.content || "",
      page: list ? "dashboard" : "other",
      filter: list?.dataset.filter || "all",
      kind: list?.dataset.kind || "",
      level: list?.dataset.level || "",
      top: !new URLSearchParams(window.location.search).has("after"),
      newest: items[0]?.dataset.cursor || "",
      shown: items.slice(0, MAX_SHOWN).map((item) => Number(item.id.slice(ITEM_PREFIX.length))),
      dropdown: document.getElementById("bell-button")?.getAttribute("aria-expanded") === "true",
    };
  }

  function send(type) {
    if (connection?.socket?.readyState === WebSocket.OPEN) {
      connection.socket.send(JSON.stringify(pageState(type)));
    }
  }

  // Several changes in one task (a swap that also closes the dropdown) make one "state".
  let stateQueued = false;
  function stateChanged() {
    if (stateQueued) return;
    stateQueued = true;
    queueMicrotask(() => {
      stateQueued = false;
      send("state");
    });
  }

  // The service worker closes the OS notifications with these tags (the notification ids) and
  // sets the app badge; without one, the page sets the badge itself.
  async function readElsewhere(tags, all, badge) {
    const registration = "serviceWorker" in navigator ? await navigator.serviceWorker.getRegistration() : null;
    if (registration?.active) {
      registration.active.postMessage({ type: "inbox:read", tags, all, badge });
    } else if (typeof badge === "number" && "setAppBadge" in navigator) {
      const done = badge > 0 ? navigator.setAppBadge(badge) : navigator.clearAppBadge();
      done.catch(() => {}); // badging is best effort: not every platform allows it
    }
  }

  function dataFrame(message) {
    if (typeof message.data !== "string" || !message.data.startsWith("{")) return null;
    try {
      const data = JSON.parse(message.data);
      return data && typeof data === "object" && !Array.isArray(data) ? data : null;
    } catch (error) {
      return null; // an HTML frame that starts with "{" is not ours to read
    }
  }

  document.addEventListener("htmx:ws:after:connection", (event) => {
    connection = event.detail.connection;
    send("hello");
    event.target.setAttribute("data-connected", "");
  });

  // A socket closed with 4401 (its session ended, or changed: a password change gives the session
  // a new key, and every socket opened with the old one closes) is not reconnected by hx-ws. The
  // badge polls meanwhile; a poll answered 200 (not the login's client redirect) shows the tab
  // has a session again, so the socket is started afresh: a new element, which hx-ws connects.
  const SESSION_ENDED = 4401;
  let endedSocket = null;

  // A socket closed with 4503 (the server's real time is down: Redis unreachable) is not
  // reconnected by hx-ws either. The badge polls meanwhile, and the socket is started afresh
  // later, with backoff and jitter (2 s, 4 s ... 60 s); once it stays up, the hello catches up.
  const REALTIME_DOWN = 4503;
  const RETRY_MS = 2000;
  const MAX_RETRY_MS = 60000;
  const STAYED_UP_MS = 30000; // a socket up this long before a 4503 starts the backoff again
  let retries = 0;
  let openedAt = 0;

  function restart(socket) {
    if (!socket.isConnected) return;
    const fresh = socket.cloneNode(false);
    socket.replaceWith(fresh);
    htmx.process(fresh);
  }

  function retryLater(socket) {
    if (Date.now() - openedAt > STAYED_UP_MS) retries = 0;
    const delay = Math.min(RETRY_MS * 2 ** retries, MAX_RETRY_MS) * (0.7 + Math.random() * 0.6);
    retries += 1;
    setTimeout(() => restart(socket), delay);
  }

  document.addEventListener("htmx:ws:after:connection", () => {
    openedAt = Date.now();
    everConnected = true;
  });

  // A socket that cannot open: when the server in front of the socket's URL cannot upgrade at all
  // (Django's runserver, gunicorn alone), it never will, and each try is an error in the console.
  // The page cannot read why an open failed (the WebSocket API hides the answer), so after a
  // failed open it asks the socket's URL once over plain HTTP; the app's own answer there says
  // `X-Inbox-Socket: needs-asgi` when it is served by such a server: only then does the page give
  // its socket up for good and let the badge poll quietly. Any other answer or none (offline, a
  // server restarting, the connect throttle's 429, a proxy's 5xx, a fetch the CSP blocks) is not
  // certain: hx-ws keeps reconnecting with its backoff, and the page going back online starts
  // the socket again at once.
  const SOCKET_HEADER = "X-Inbox-Socket";
  let everConnected = false;
  let probe = null; // null, then "asking", then "needs-asgi" or "other" (null again when unanswered)

  function plainUrl(socket) {
    const url = new URL(socket.getAttribute("hx-ws:connect"), window.location.href);
    url.protocol = url.protocol === "wss:" ? "https:" : url.protocol === "ws:" ? "http:" : url.protocol;
    return url.href;
  }

  function askServer(socket) {
    if (probe !== null) return;
    probe = "asking";
    const asking = { headers: { [SOCKET_HEADER]: "probe" }, cache: "no-store", credentials: "same-origin" };
    fetch(plainUrl(socket), asking)
      .then((response) => {
        probe = response.headers.get(SOCKET_HEADER) === "needs-asgi" ? "needs-asgi" : "other";
        if (probe === "needs-asgi") giveUp();
      })
      .catch(() => {
        probe = null; // no answer (offline, blocked): asked again after a later failed open
      });
  }

  function giveUp() {
    // The socket's next try (hx-ws's reconnect timer) is cancelled: the element is replaced by
    // one that is not a socket (hx-ws drops the connection of an element no longer in the page).
    document.querySelectorAll("[data-live][hx-ws\\:connect]").forEach((socket) => {
      if (socket.hasAttribute("data-connected")) return;
      const inert = socket.cloneNode(false);
      inert.removeAttribute("hx-ws:connect");
      inert.setAttribute("data-gave-up", "");
      socket.replaceWith(inert);
    });
  }

  document.addEventListener("htmx:ws:before:connection", (event) => {
    if (probe === "needs-asgi") {
      event.preventDefault(); // hx-ws then closes the connection for good ("cancelled")
      event.detail.connection.cancelled = true;
      event.target.setAttribute("data-gave-up", "");
    }
  });

  document.addEventListener("htmx:ws:close", (event) => {
    connection = null;
    event.target.removeAttribute("data-connected"); // the badge polls again until it reconnects
    if (!everConnected && event.detail.reason === "closed") askServer(event.target);
    if (event.detail.code === SESSION_ENDED) endedSocket = event.target;
    if (event.detail.code === REALTIME_DOWN) retryLater(event.target);
  });

  // Back online: a socket that is down (in hx-ws's backoff, up to a minute) starts again now.
  // Not one given up for good, nor one whose session ended (the badge's poll restarts that).
  window.addEventListener("online", () => {
    document.querySelectorAll("[data-live][hx-ws\\:connect]").forEach((socket) => {
      if (probe === "needs-asgi" || socket === endedSocket || socket.hasAttribute("data-connected")) return;
      restart(socket);
    });
  });

  document.addEventListener("htmx:after:request", (event) => {
    const ctx = event.detail.ctx;
    if (!endedSocket || !ctx?.sourceElement?.closest?.("[data-poll]")) return;
    const response = ctx.response;
    if (!response || response.status !== 200 || response.headers.get("HX-Redirect")) return;
    const ended = endedSocket;
    endedSocket = null;
    restart(ended);
  });

  // A list whose last item a frame removed (read or deleted elsewhere, expired) says so, in the
  // words the server rendered into the page's <template id="inbox-empty">.
  function sayWhenEmpty() {
    const list = document.getElementById("inbox-items");
    const empty = document.getElementById("inbox-empty");
    if (list && empty && !list.querySelector(":scope > li")) list.append(empty.content.cloneNode(true));
  }

  document.addEventListener("htmx:ws:after:message:incoming", (event) => {
    sayWhenEmpty();
    const data = dataFrame(event.detail.message);
    if (!data) return;
    const tags = Array.isArray(data.read) ? data.read.filter((tag) => typeof tag === "string") : [];
    const all = data.all_read === true;
    const badge = Number.isInteger(data.badge) ? data.badge : undefined;
    if (tags.length || all || badge !== undefined) readElsewhere(tags, all, badge).catch(() => {});
  });

  document.addEventListener("htmx:config:request", (event) => {
    event.detail.ctx.request.headers["X-Inbox-Tab"] = tab;
  });

  // The page's own swaps (a filter, "load more", an action) change what it shows; the socket's
  // swaps do not need telling (the server made them).
  document.addEventListener("htmx:after:swap", (event) => {
    if (!event.target.closest?.("[data-live]")) stateChanged();
  });

  function start() {
    // htmx (a deferred script) processes the page as soon as it runs, before the extension that
    // follows it is registered: have hx-ws see the socket element now.
    document.querySelectorAll("[data-live]").forEach((element) => htmx.process(element));
    const button = document.getElementById("bell-button");
    if (button) {
      new MutationObserver(stateChanged).observe(button, { attributes: true, attributeFilter: ["aria-expanded"] });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
