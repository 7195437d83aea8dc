"""The mail channel's models, which were the core app's (inbox 0001 to 0019 made their tables):
taken over in the migration state only, with their table names. Their content types follow them,
and with those the permissions and admin log entries that name them."""

from __future__ import annotations

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

APP_LABEL = "inbox_mail"
MODELS = ["digestreceipt", "emailbounce", "emailreceipt"]


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
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DigestReceipt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "due_at",
                            models.DateTimeField(
                                help_text="The slot of the user's schedule this digest answered."
                            ),
                        ),
                        ("cursor_created", models.DateTimeField()),
                        ("cursor_id", models.BigIntegerField()),
                        ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "user",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "inbox_digestreceipt",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "due_at"), name="inbox_one_digest_per_slot"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="EmailBounce",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("address", models.CharField(max_length=254)),
                        (
                            "code",
                            models.PositiveSmallIntegerField(
                                blank=True,
                                help_text="The SMTP reply code, 500 to 599; empty when an ESP refused it.",
                                null=True,
                            ),
                        ),
                        (
                            "message",
                            models.CharField(blank=True, help_text="The server's reply.", max_length=500),
                        ),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "user",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "inbox_emailbounce",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "address"), name="inbox_one_bounce_per_address"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="EmailReceipt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
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
                        "db_table": "inbox_emailreceipt",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("message", "user"), name="inbox_one_email_per_recipient"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=False),
    ]
