"""Was: PushSession, the login session a push subscription lives in, with its table. Its model
points at django-webpush's table, and the core must migrate without django-webpush installed, so
this migration now does nothing: inbox_push 0001 owns PushSession and makes its table where it is
missing (a database that applied this migration before has it, with its rows)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inbox", "0011_expiring_index")]

    operations = []
