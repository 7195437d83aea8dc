"""Expiries are now bounded (at most INBOX_MAX_EXPIRY_DAYS ahead). PostgreSQL accepted, before
that bound, expiries past the year 9999 in UTC, which Python cannot read back: every page that
loaded such a message failed. Bring any stored expiry beyond ten years down to ten years."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def clamp(apps, schema_editor):
    Message = apps.get_model("inbox", "Message")
    bound = timezone.now() + timedelta(days=3650)
    Message.objects.using(schema_editor.connection.alias).filter(expires_at__gt=bound).update(expires_at=bound)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0002_push_one_row_per_endpoint")]

    operations = [migrations.RunPython(clamp, migrations.RunPython.noop)]
