// The page's polite live region (#inbox-announcer, inbox/live.html) says each new notification
// once, in order: the socket's frames write "New notification: ..." into #inbox-live (hidden),
// and this script queues what they wrote, one announcement every GAP_MS, so three notifications
// in 50 ms no longer overwrite each other before a screen reader says them. Notifications that
// arrive without their own announcement (caught up by the socket's hello after a reconnect, or
// by a badge poll while the socket is down) are announced once, counted: "3 new notifications".
// A queue longer than MAX_QUEUED is said the same way. The count is the badge's; changes the
// person made (reading, deleting) move it silently.
(() => {
  "use strict";

  const GAP_MS = 1500; // time for a screen reader to start one announcement before the next
  const MAX_QUEUED = 3;
  const queue = [];
  let speaking = false;
  let known = null; // the badge's unread count, as last seen

  const counted = (n) => `${n} new notification${n === 1 ? "" : "s"}`;

  function unread() {
    const match = document.getElementById("inbox-badge")?.textContent.match(/(\d+)\+? unread/);
    return match ? Number(match[1]) : null;
  }

  function speakNext() {
    const region = document.getElementById("inbox-announcer");
    if (!queue.length || !region) {
      speaking = false;
      return;
    }
    speaking = true;
    region.textContent = queue.length > MAX_QUEUED ? counted(queue.splice(0).length) : queue.shift();
    setTimeout(speakNext, GAP_MS);
  }

  function announce(text) {
    queue.push(text);
    if (!speaking) speakNext();
  }

  // What arrived unannounced: the count's rise since it was last seen. A frame that announces
  // its notification only moves the count (its badge is the count when it was sent, which may
  // already include the next ones, announced by their own frames).
  function catchUp(announced) {
    const now = unread();
    if (now === null) return;
    const missed = known === null || announced ? 0 : now - known;
    known = now;
    if (missed > 0) announce(counted(missed));
  }

  // Each announcement a frame writes into #inbox-live (a frame of several notifications writes
  // several, each replacing the last): read from the mutations, so none is lost.
  let heard = 0;
  const observer = new MutationObserver((records) => hear(records));
  function hear(records) {
    for (const record of records) {
      // A swap adds nodes, or (htmx morphing the text in place) changes a text node's data.
      const nodes = record.type === "characterData" ? [record.target] : [...record.addedNodes];
      for (const node of nodes) {
        const text = node.textContent.trim();
        if (text) {
          heard += 1;
          announce(text);
        }
      }
    }
  }

  document.addEventListener("htmx:ws:after:message:incoming", () => {
    hear(observer.takeRecords()); // this frame's, if the observer has not run yet
    catchUp(heard > 0);
    heard = 0;
  });

  document.addEventListener("htmx:after:swap", (event) => {
    if (event.target.closest?.("[data-live]")) return; // a frame: counted above
    if (event.detail.ctx?.sourceElement?.closest?.("[data-poll]")) catchUp(false);
    else known = unread(); // the person's own change
  });

  function start() {
    known = unread();
    const source = document.getElementById("inbox-live");
    if (source) observer.observe(source, { childList: true, subtree: true, characterData: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
