"""Was: binding the push subscriptions saved before 0012 to the sessions that saved them. Now
inbox_push 0001 does that when it makes the PushSession table (see 0012)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inbox", "0012_push_session")]

    operations = []
