"""Real time over WebSockets (Django Channels): every open tab of a user sees a new notification,
and every change made elsewhere, at once.

events.py publishes what happened (from any process, on commit); hub.py, one per web process,
receives the events from one source (source_db.py: a table polled by the process; source_layer.py:
the channel layer, e.g. Redis pub/sub) and fans them out to the process's sockets (consumer.py) as
rendered template partials (frames.py). asgi.py wires the socket URL for the site's ASGI app.
A Django app (inbox.realtime.apps.RealtimeConfig, label inbox_realtime): its ready() registers
the channel with inbox.delivery.
"""
