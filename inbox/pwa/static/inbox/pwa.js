// Installable app and offline viewing: registers the service worker; when the browser is
// offline, or the server can't be reached (a page the worker answered from its cache, an
// action that got no answer), shows the notice that says which, pauses the actions that need
// the server, and resumes when an answer comes back.
(() => {
  "use strict";

  const root = document.documentElement;
  const setting = (name) => document.querySelector(`meta[name="inbox-${name}"]`)?.content;
  const workerUrl = setting("service-worker");
  if ("serviceWorker" in navigator && workerUrl) {
    navigator.serviceWorker.register(workerUrl, { scope: "/" }).catch((error) => {
      console.warn("Service worker not registered:", error);
    });
  }

  // The header on a fragment the worker answered from its cache (named by the server).
  const SAVED_HEADER = setting("saved-header");
  const state = {
    offline: !navigator.onLine,
    // The worker marks a page it answered from its cache: online, the server did not answer.
    unreachable: "inboxSaved" in root.dataset && navigator.onLine,
  };

  function actionButtons() {
    // Every form that changes something on the server (POST) and the push toggle.
    return document.querySelectorAll('form[method="post"] button, [data-push-toggle]');
  }

  function render() {
    const paused = state.offline || state.unreachable;
    const banner = document.getElementById("offline-notice");
    if (banner) {
      banner.hidden = !paused;
      const reason = state.offline ? "offline" : "unreachable";
      banner.querySelectorAll("[data-notice]").forEach((part) => {
        part.hidden = part.dataset.notice !== reason;
      });
    }
    root.classList.toggle("is-offline", paused);
    actionButtons().forEach((button) => {
      if (paused && !button.disabled) {
        button.disabled = true;
        button.dataset.offlineDisabled = "true";
      } else if (!paused && button.dataset.offlineDisabled) {
        button.disabled = false;
        delete button.dataset.offlineDisabled;
      }
    });
  }

  function update(changes) {
    Object.assign(state, changes);
    render();
  }

  function refreshBadge() {
    const badge = document.getElementById("inbox-badge");
    if (badge && window.htmx) {
      htmx.ajax("GET", badge.getAttribute("hx-get"), { target: badge, swap: "outerHTML" });
    }
  }

  // The bell's dropdown may be asked for offline: the worker answers it from its cache.
  function isDropdown(ctx) {
    const button = document.getElementById("bell-button");
    if (!button || !button.dataset.dropdownUrl || ctx.request.method !== "GET") return false;
    const url = new URL(ctx.request.action, location.href);
    return url.pathname === new URL(button.dataset.dropdownUrl, location.href).pathname;
  }

  function start() {
    render();
    window.addEventListener("offline", () => update({ offline: true }));
    window.addEventListener("online", () => {
      update({ offline: false, unreachable: false });
      refreshBadge(); // if the server is still down, this says so
    });
    // New content swapped in (or buttons rendered later) follows the same rule.
    document.addEventListener("htmx:after:swap", render);
    // While offline, do not fire requests that can only fail (the badge poll, actions).
    document.addEventListener("htmx:before:request", (event) => {
      if (state.offline && !isDropdown(event.detail.ctx)) event.preventDefault();
    });
    // An answer tells whether the server is reachable: the worker's saved copy says it is not.
    document.addEventListener("htmx:after:request", (event) => {
      const response = event.detail.ctx.response;
      if (response && SAVED_HEADER) update({ unreachable: Boolean(response.headers.get(SAVED_HEADER)) });
    });
    // No answer at all (the fetch failed): say so rather than fail silently.
    document.addEventListener("htmx:error", (event) => {
      const ctx = event.detail.ctx;
      if (ctx && !ctx.response) update({ unreachable: !state.offline });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
