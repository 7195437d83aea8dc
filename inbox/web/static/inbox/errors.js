// What a person sees when an action done in place fails. htmx never swaps an error response
// into the page (inbox/head.html's htmx-config: noSwap 4xx and 5xx); the server's short message for
// an htmx request arrives out of band in the page's message area (an alert), and this script
// then refreshes what may be stale: every [data-refreshable] element that is shown (the list,
// the open dropdown, the badge) listens for "inbox:refresh". With no answer at all (network
// down, server gone), the message comes from the area's data-network-text. A form that answers
// an error with content to show (the send form's 422) says so with hx-status, and is left alone.
(() => {
  "use strict";

  const area = () => document.querySelector("[data-request-message]");
  const text = () => document.getElementById("request-message-text");

  function say(message) {
    const slot = text();
    if (slot) slot.textContent = message;
  }

  function isBackground(ctx) {
    // A poll or a refresh that fails shows nothing: the next one tries again.
    const poll = (element) => Boolean(element?.closest?.("[data-poll]"));
    return poll(ctx?.sourceElement) || poll(ctx?.target) || ctx?.sourceEvent?.type === "inbox:refresh";
  }

  function refreshStale() {
    document.querySelectorAll("[data-refreshable]").forEach((element) => {
      if (!element.closest("[hidden]")) htmx.trigger(element, "inbox:refresh");
    });
  }

  function start() {
    // A new request of the person's own clears the last message.
    document.addEventListener("htmx:before:request", (event) => {
      if (!event.defaultPrevented && !isBackground(event.detail.ctx)) say("");
    });
    area()?.querySelector("[data-dismiss]")?.addEventListener("click", () => say(""));

    document.addEventListener("htmx:finally:request", (event) => {
      const ctx = event.detail.ctx;
      const status = ctx?.response?.status;
      if (!status || status < 400 || ctx.swap !== "none" || isBackground(ctx)) return;
      if (!text()?.textContent.trim()) say(area().dataset.fallbackText);
      refreshStale();
    });

    document.addEventListener("htmx:error", (event) => {
      const ctx = event.detail.ctx;
      if (!ctx || ctx.response || isBackground(ctx)) return; // a response was handled above
      say(area().dataset.networkText);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
