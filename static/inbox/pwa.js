// Installable app and offline viewing: registers the service worker, shows the offline notice,
// disables the actions that need the server while offline, and catches up when it returns.
(() => {
  "use strict";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/service-worker.js", { scope: "/" }).catch((error) => {
      console.warn("Service worker not registered:", error);
    });
  }

  const notice = () => document.getElementById("offline-notice");

  function actionButtons() {
    // Every form that changes something on the server (POST) and the push toggle.
    return document.querySelectorAll('form[method="post"] button, [data-push-toggle]');
  }

  function setOffline(offline) {
    const banner = notice();
    if (banner) banner.hidden = !offline;
    document.documentElement.classList.toggle("is-offline", offline);
    actionButtons().forEach((button) => {
      if (offline && !button.disabled) {
        button.disabled = true;
        button.dataset.offlineDisabled = "true";
      } else if (!offline && button.dataset.offlineDisabled) {
        button.disabled = false;
        delete button.dataset.offlineDisabled;
      }
    });
  }

  function refreshBadge() {
    const badge = document.getElementById("inbox-badge");
    if (badge && window.htmx) {
      htmx.ajax("GET", badge.getAttribute("hx-get"), { target: badge, swap: "outerHTML" });
    }
  }

  function start() {
    setOffline(!navigator.onLine);
    window.addEventListener("offline", () => setOffline(true));
    window.addEventListener("online", () => {
      setOffline(false);
      refreshBadge();
    });
    // New content swapped in while offline (or buttons rendered later) follows the same rule.
    document.addEventListener("htmx:after:swap", () => setOffline(!navigator.onLine));
    // While offline, do not fire requests that can only fail (the badge poll, actions).
    document.addEventListener("htmx:before:request", (event) => {
      if (!navigator.onLine) event.preventDefault();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
