"""A push subscription is bound to the login session that saved or last confirmed it
(PushSession), so push ends when that session ends. Subscriptions saved before this are bound
by 0013 to the database sessions that recorded them; the rest are removed by the worker's next
sweep (their users turn push on again) unless a page of their user confirms them first
(push/check/ binds them to that session)."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0011_expiring_index"),
        ("webpush", "0005_auto_20230614_1529"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PushSession",
            fields=[
                (
                    "subscription",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="inbox_session",
                        serialize=False,
                        to="webpush.subscriptioninfo",
                    ),
                ),
                ("session_key", models.CharField(db_index=True, max_length=40)),
                ("auth_hash", models.CharField(max_length=128)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
