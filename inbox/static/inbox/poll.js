// Polling rests while nobody looks: a request from a [data-poll] element (the badge) is
// cancelled while the page is hidden. The badge also listens for visibilitychange, so it
// refreshes once when the page is shown again. (A plain listener, not an hx-trigger filter
// expression: the Content Security Policy allows no eval.)
(() => {
  "use strict";

  document.addEventListener("htmx:before:request", (event) => {
    const source = event.detail.ctx?.sourceElement;
    if (document.hidden && source?.closest?.("[data-poll]")) event.preventDefault();
  });
})();
