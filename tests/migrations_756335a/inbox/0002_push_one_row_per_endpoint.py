"""One stored row per push endpoint, and one owner per subscription.

django-webpush's tables have no unique constraint, so two concurrent saves of one endpoint
made two rows (double pushes), and a subscription could belong to several users. Existing
duplicates are merged (the newest row wins) before the unique indexes are created. The
indexes are plain SQL because the tables belong to django-webpush, not to this app.
"""
from __future__ import annotations

from django.db import migrations


def merge_duplicates(apps, schema_editor):
    SubscriptionInfo = apps.get_model("webpush", "SubscriptionInfo")
    PushInformation = apps.get_model("webpush", "PushInformation")
    db = schema_editor.connection.alias
    seen = set()
    for row in SubscriptionInfo.objects.using(db).order_by("-id").values("id", "endpoint").iterator():
        if row["endpoint"] in seen:
            SubscriptionInfo.objects.using(db).filter(pk=row["id"]).delete()
        else:
            seen.add(row["endpoint"])
    owners = set()
    for row in PushInformation.objects.using(db).order_by("-id").values("id", "subscription_id").iterator():
        if row["subscription_id"] in owners:
            PushInformation.objects.using(db).filter(pk=row["id"]).delete()
        else:
            owners.add(row["subscription_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        ("webpush", "0005_auto_20230614_1529"),
    ]

    operations = [
        migrations.RunPython(merge_duplicates, migrations.RunPython.noop),
        migrations.RunSQL(
            "CREATE UNIQUE INDEX inbox_push_one_row_per_endpoint ON webpush_subscriptioninfo (endpoint)",
            "DROP INDEX inbox_push_one_row_per_endpoint",
        ),
        migrations.RunSQL(
            "CREATE UNIQUE INDEX inbox_push_one_owner_per_subscription "
            "ON webpush_pushinformation (subscription_id)",
            "DROP INDEX inbox_push_one_owner_per_subscription",
        ),
    ]
