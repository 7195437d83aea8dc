// The bell's dropdown: opening and closing, keyboard and focus. Its content is HTML from the
// server (htmx); nothing here builds markup. Without this script the bell is a plain button
// that opens the dashboard.
(() => {
  "use strict";

  function setUp(bell) {
    const button = bell.querySelector("#bell-button");
    const panel = bell.querySelector("#bell-panel");
    const isOpen = () => button.getAttribute("aria-expanded") === "true";

    function focusHeading() {
      const heading = panel.querySelector("#bell-heading");
      if (heading) heading.focus();
    }

    async function open() {
      button.setAttribute("aria-expanded", "true");
      panel.hidden = false;
      panel.setAttribute("aria-busy", "true");
      try {
        await htmx.ajax("GET", button.dataset.dropdownUrl, { target: panel, swap: "innerHTML" });
      } finally {
        panel.removeAttribute("aria-busy");
      }
      if (isOpen()) focusHeading();
    }

    function close(returnFocus) {
      if (!isOpen()) return;
      button.setAttribute("aria-expanded", "false");
      panel.hidden = true;
      if (returnFocus) button.focus();
    }

    button.addEventListener("click", (event) => {
      event.preventDefault(); // with JavaScript, the button opens the dropdown, not the page
      if (isOpen()) close(false);
      else open();
    });
    bell.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && isOpen()) {
        event.preventDefault();
        close(true);
      }
    });
    document.addEventListener("click", (event) => {
      if (!bell.contains(event.target)) close(false);
    });
    bell.addEventListener("focusout", (event) => {
      if (event.relatedTarget && !bell.contains(event.relatedTarget)) close(false);
    });
    // An action inside the dropdown replaces its content, and with it the focused button:
    // keep the focus in the dropdown instead of losing it to the page.
    panel.addEventListener("htmx:after:swap", () => {
      if (isOpen() && !panel.contains(document.activeElement)) focusHeading();
    });
  }

  function start() {
    document.querySelectorAll("[data-bell]").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
