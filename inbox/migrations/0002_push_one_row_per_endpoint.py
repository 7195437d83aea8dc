"""Was: one stored row per push endpoint and one owner per subscription, as unique indexes on
django-webpush's tables. Those tables are inbox.push's business, and the core must migrate
without django-webpush installed, so this migration now does nothing: inbox_push 0001 merges
the duplicates and makes the indexes where they are missing (a database that applied this
migration before has them already)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = []
