"""The realtime channel's models, which were the core app's (inbox 0001 to 0019 made their tables):
taken over in the migration state only, with their table names. Their content types follow them,
and with those the permissions and admin log entries that name them."""

from __future__ import annotations

import django.db.models.functions.datetime
from django.db import migrations, models

APP_LABEL = "inbox_realtime"
MODELS = ["realtimeevent"]


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
        ("inbox", "0020_channel_models_move_to_their_apps"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RealtimeEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "created",
                            models.DateTimeField(
                                db_default=django.db.models.functions.datetime.Now(), db_index=True
                            ),
                        ),
                        ("payload", models.JSONField()),
                    ],
                    options={
                        "db_table": "inbox_realtimeevent",
                        "ordering": ["id"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=False),
    ]
