// A form that answers in place keeps the person where the answer is: after the swap into a
// [data-focus-answer] container, the focus moves to the first error (a form alert or a field
// marked aria-invalid, which names its message through aria-describedby) or, with no error, to
// the status element whose id the container names. Otherwise it would fall back to <body>.
(() => {
  "use strict";

  document.addEventListener("htmx:after:swap", (event) => {
    const box = event.detail.ctx?.target;
    if (!box?.isConnected || !box.matches?.("[data-focus-answer]")) return;
    const firstError = box.querySelector('[role="alert"], [aria-invalid="true"]');
    const status = document.getElementById(box.dataset.focusAnswer);
    (firstError || status)?.focus();
  });
})();

// The dashboard's in-place swaps (an item's action, Mark all, the tabs, the filter, Load more, a
// refresh after a failed action) replace the element that had the focus, which would then fall
// back to <body> (WCAG 2.4.3). Before the swap, remember where the focus was: the nearest element
// with an id around it, its place among that element's controls, its name, and the items beside
// it. After the swap, focus the same control again, found by id, then by name, then by place;
// an item that is gone (deleted, or read under "Unread") passes the focus to the next item, else
// the one before, else the list's heading; "Load more" passes it to the first item it loaded.
(() => {
  "use strict";

  const CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]";
  let remembered = null;

  const controlName = (element) =>
    element.getAttribute("aria-label") || element.name || element.textContent.trim().replace(/\s+/g, " ");

  function focusOn(element) {
    if (!element) return false;
    if (!element.matches(CONTROLS)) element.setAttribute("tabindex", "-1");
    element.focus();
    return document.activeElement === element;
  }

  document.addEventListener("htmx:before:swap", (event) => {
    const target = event.detail.ctx?.target;
    const active = document.activeElement;
    if (!target?.closest?.("#inbox-list") || !active || active === document.body || !target.contains(active)) return;
    const holder = active.parentElement?.closest("[id]") || target;
    const item = active.closest('li[id^="notification-"], li.more');
    remembered = {
      id: active.id,
      holder: holder.id,
      name: controlName(active),
      place: [...holder.querySelectorAll(CONTROLS)].indexOf(active),
      next: item?.nextElementSibling?.id || "",
      previous: item?.previousElementSibling?.id || "",
      loading: item?.classList.contains("more") || false,
    };
  });

  document.addEventListener("htmx:after:swap", () => {
    const was = remembered;
    remembered = null;
    if (!was || (document.activeElement && document.activeElement !== document.body)) return;
    if (was.id && focusOn(document.getElementById(was.id))) return;
    if (was.loading) {
      // Load more: its <li> became the next page's items; the first of them follows the item before.
      const before = document.getElementById(was.previous);
      if (before?.nextElementSibling && focusOn(before.nextElementSibling)) return;
    }
    const holder = document.getElementById(was.holder);
    if (holder) {
      const controls = [...holder.querySelectorAll(CONTROLS)];
      const same = controls.find((control) => controlName(control) === was.name) || controls[was.place];
      if (focusOn(same)) return;
    }
    for (const id of [was.next, was.previous]) {
      const item = id && document.getElementById(id);
      if (item?.isConnected && item.matches('li[id^="notification-"]') && focusOn(item)) return;
    }
    focusOn(document.getElementById("inbox-heading"));
  });
})();
