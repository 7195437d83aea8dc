// Polling rests while it is not needed: a request from a [data-poll] element (the badge) is
// cancelled while the page is hidden, and its timed polls also while the real-time socket is up
// (realtime.js marks it [data-connected]; the socket then sends every change, and when it closes
// the next poll goes out again). The badge also listens for visibilitychange, so it refreshes
// once when the page is shown again. (A plain listener, not an hx-trigger filter expression:
// the Content Security Policy allows no eval.)
(() => {
  "use strict";

  const socketUp = () => document.querySelector("[data-live][data-connected]") !== null;

  document.addEventListener("htmx:before:request", (event) => {
    const ctx = event.detail.ctx;
    if (!ctx?.sourceElement?.closest?.("[data-poll]")) return;
    if (document.hidden || (ctx.sourceEvent?.type === "every" && socketUp())) event.preventDefault();
  });
})();
