"""The htmx UI: dashboard, bell, actions, the staff send form and the preferences page. A Django
app (inbox.web.apps.WebConfig, label inbox_web)."""
