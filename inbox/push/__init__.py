"""Web Push: subscriptions (django-webpush stores them), endpoint checks, the sender, delivery
tasks, read tokens, views and urls. A Django app (inbox.push.apps.PushConfig, label inbox_push):
its ready() registers the channel with inbox.delivery and its column with inbox.kinds."""
