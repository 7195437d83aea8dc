"""The push channel's models, which were the core app's (inbox 0001 to 0019 made their tables):
taken over in the migration state only, with their table names. Their content types follow them,
and with those the permissions and admin log entries that name them."""

from __future__ import annotations

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

APP_LABEL = "inbox_push"
MODELS = ["pushsession", "pushreceipt"]


def move_content_types(apps, schema_editor, source="inbox", target=APP_LABEL):
    """Relabel the models' content types (a database migrated before the move has them under
    "inbox"), unless the target already has one of that model."""
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(
        schema_editor.connection.alias
    )
    taken = set(content_types.filter(app_label=target, model__in=MODELS).values_list("model", flat=True))
    content_types.filter(app_label=source, model__in=set(MODELS) - taken).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source=APP_LABEL, target="inbox")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("inbox", "0020_channel_models_move_to_their_apps"),
        ("webpush", "0006_alter_subscriptioninfo_user_agent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
                    options={
                        "db_table": "inbox_pushsession",
                    },
                ),
                migrations.CreateModel(
                    name="PushReceipt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("subscription_id", models.BigIntegerField()),
                        ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "message",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="inbox.message",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "inbox_pushreceipt",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("message", "subscription_id"), name="inbox_one_receipt_per_push"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=False),
    ]
