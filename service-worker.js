// The site's service worker, served at /service-worker.js (scope "/") by
// inbox.pwa.views.service_worker, which fills in the URL of Inbox's handlers below.
// Inbox's handlers (push, notification clicks, the offline inbox) come from the app; a site adds
// its own handlers after this line.
"use strict";

importScripts("__INBOX_SW__");
