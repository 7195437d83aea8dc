// The bell's dropdown: opening and closing, keyboard and focus. Its content is HTML from the
// server (htmx); nothing here builds markup. Without this script the bell is a plain button
// that opens the dashboard.
(() => {
  "use strict";

  const MARGIN = 8; // the panel keeps this far from the window's edges
  const ARROW = 8; // the arrow's height, between the bell and the panel

  // Where the panel goes: under the bell (above it when there is more room there), its edge on
  // the bell's nearer edge (or centred on a bell in the middle third of the window), slid back
  // inside the window, the arrow pointing at the bell's centre. Measured in the window's
  // coordinates, so the host's layout (bell left, right or centred, left-to-right or right-to-left,
  // a header of any height) does not matter; set as custom properties the stylesheet reads
  // (CSSOM, which the Content Security Policy allows, unlike a style attribute).
  function place(bell, button, dropdown) {
    const viewport = document.documentElement.clientWidth; // without a scroll bar
    const height = window.innerHeight;
    dropdown.style.setProperty("--_viewport", `${viewport}px`);
    let width = dropdown.offsetWidth;
    const excess = width - (viewport - 2 * MARGIN); // e.g. a host's "* { box-sizing: content-box }"
    if (excess > 0) {
      dropdown.style.setProperty("--_viewport", `${viewport - excess}px`);
      width = dropdown.offsetWidth;
    }
    const box = bell.getBoundingClientRect();
    const anchor = button.getBoundingClientRect();
    const centre = anchor.left + anchor.width / 2;
    let left;
    if (centre < viewport / 3) left = anchor.left;
    else if (centre > (viewport * 2) / 3) left = anchor.right - width;
    else left = centre - width / 2;
    left = Math.max(MARGIN, Math.min(left, viewport - MARGIN - width));
    const below = height - anchor.bottom - ARROW - MARGIN;
    const above = anchor.top - ARROW - MARGIN;
    const up = below < 240 && above > below;
    dropdown.dataset.placed = up ? "above" : "below";
    dropdown.style.setProperty("--_left", `${left - box.left}px`);
    dropdown.style.setProperty("--_arrow-x", `${Math.max(14, Math.min(centre - left, width - 14))}px`);
    dropdown.style.setProperty("--_room", `${Math.max(160, up ? above : below)}px`);
  }

  function setUp(bell) {
    const button = bell.querySelector("#bell-button");
    const dropdown = bell.querySelector("#bell-dropdown");
    const panel = bell.querySelector("#bell-panel");
    const isOpen = () => button.getAttribute("aria-expanded") === "true";
    let frame = 0;
    function placeSoon() {
      if (frame || !isOpen()) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        if (isOpen()) place(bell, button, dropdown);
      });
    }
    window.addEventListener("resize", placeSoon);
    window.addEventListener("scroll", placeSoon, { passive: true });

    function focusHeading() {
      const heading = panel.querySelector("#bell-heading");
      if (heading) heading.focus();
    }

    async function open() {
      button.setAttribute("aria-expanded", "true");
      dropdown.hidden = false;
      place(bell, button, dropdown);
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
      dropdown.hidden = true;
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
