"""The installable app: the service worker's handlers, the manifest, the offline page, and the
privacy headers that keep the worker's offline copies one user's. A Django app
(inbox.pwa.apps.PwaConfig, label inbox_pwa)."""
