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
