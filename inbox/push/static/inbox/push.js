// The "Push notifications" toggle: asks for permission, subscribes this browser with the
// site's VAPID key and stores the subscription through a CSRF-protected endpoint. It shows the
// current user's state: a subscription this browser still holds for someone else (a previous
// user) is released, on the server and in the browser, and the switch shows Off.
(() => {
  "use strict";

  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

  function keyBytes(base64url) {
    const padded = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!response.ok) {
      let message = `The server answered ${response.status}.`;
      try {
        message = (await response.json()).error || message;
      } catch (error) { /* not JSON */ }
      throw Object.assign(new Error(message), { status: response.status });
    }
    return response;
  }

  // The subscription's auth secret (base64url): it proves to the server that this browser holds it.
  function secretOf(subscription) {
    return (subscription.toJSON().keys || {}).auth || null;
  }

  // The server's last answer for this page: the dropdown's switch is rendered again after
  // every action in it, which must not ask the server again each time.
  let known = null; // { endpoint, mine }

  // Whether the server stores this subscription for the current user; null if it cannot say.
  async function isMine(toggle, subscription) {
    if (known?.endpoint === subscription.endpoint) return known.mine;
    try {
      const response = await post(toggle.dataset.checkUrl, { endpoint: subscription.endpoint, auth: secretOf(subscription) });
      known = { endpoint: subscription.endpoint, mine: (await response.json()).mine === true };
      return known.mine;
    } catch (error) {
      return null;
    }
  }

  // Forget a subscription on the server (whoever it was saved for) and in this browser.
  async function release(toggle, subscription) {
    known = null;
    await post(toggle.dataset.unsubscribeUrl, { endpoint: subscription.endpoint, auth: secretOf(subscription) })
      .catch(() => {});
    await subscription.unsubscribe().catch(() => {});
  }

  function save(toggle, subscription) {
    const browser = navigator.userAgentData?.brands?.[0]?.brand || "";
    return post(toggle.dataset.subscribeUrl, { subscription: subscription.toJSON(), browser });
  }

  function subscribe(toggle, registration) {
    return registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(toggle.dataset.vapidKey),
    });
  }

  function say(toggle, text) {
    const status = toggle.parentElement.querySelector("[data-push-status]");
    if (status) status.textContent = text;
  }

  function show(toggle, on) {
    toggle.setAttribute("aria-checked", on ? "true" : "false");
    toggle.querySelector("[data-push-state]").textContent = on ? "On" : "Off";
  }

  const BLOCKED = "Notifications are blocked for this site. Allow them in your browser's site "
    + "settings, then try again.";

  async function turnOn(toggle, registration) {
    if (Notification.permission === "denied") return say(toggle, BLOCKED);
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      return say(toggle, permission === "denied" ? BLOCKED : "Permission was not given; push stays off.");
    }
    let subscription;
    try {
      subscription = await subscribe(toggle, registration);
    } catch (error) {
      return say(toggle, `This browser could not subscribe to push: ${error.message}`);
    }
    try {
      try {
        await save(toggle, subscription);
      } catch (error) {
        if (error.status !== 409) throw error;
        // The browser's subscription belongs to another account: give it up, make a new one.
        await release(toggle, subscription);
        subscription = await subscribe(toggle, registration);
        await save(toggle, subscription);
      }
    } catch (error) {
      await subscription.unsubscribe().catch(() => {});
      return say(toggle, `Push could not be turned on: ${error.message}`);
    }
    known = { endpoint: subscription.endpoint, mine: true };
    show(toggle, true);
    say(toggle, "Push notifications are on for this browser.");
  }

  async function turnOff(toggle, registration) {
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) {
      await release(toggle, subscription);
    }
    show(toggle, false);
    say(toggle, "Push notifications are off for this browser.");
  }

  async function setUp(toggle) {
    if (toggle.dataset.pushReady) return;
    toggle.dataset.pushReady = "true";
    if (!supported || !toggle.dataset.vapidKey) {
      say(toggle, supported ? "Push is not configured on this site." : "This browser does not support push notifications.");
      return;
    }
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    const mine = subscription ? await isMine(toggle, subscription) : false;
    if (mine === false && subscription) await release(toggle, subscription);
    // On only when the server says it is this user's (not when it cannot be asked).
    show(toggle, mine === true);
    toggle.addEventListener("click", async () => {
      toggle.disabled = true;
      try {
        if (toggle.getAttribute("aria-checked") === "true") await turnOff(toggle, registration);
        else await turnOn(toggle, registration);
      } finally {
        toggle.disabled = false;
      }
    });
    // Shown only now that it works: a click before the worker is ready would do nothing.
    toggle.hidden = false;
  }

  function start() {
    document.querySelectorAll("[data-push-toggle]").forEach(setUp);
    // The dropdown's toggle arrives with htmx.
    document.addEventListener("htmx:after:swap", () => document.querySelectorAll("[data-push-toggle]").forEach(setUp));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
