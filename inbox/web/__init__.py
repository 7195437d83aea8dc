"""The htmx UI: dashboard, bell, actions, the staff send form and the preferences page."""
