"""django-webpush's migrations, plus the one its release 0.3.6 lacks.

Its model says `user_agent = CharField(max_length=500, blank=True)`, its migrations never added
`blank=True` (upstream's fix, migration 0006_alter_subscriptioninfo_user_agent, is merged but not
released), so every `migrate` said "webpush has changes not reflected in a migration" and
advised `makemigrations`, which would write into site-packages. The site points
MIGRATION_MODULES["webpush"] here. This package's path is this folder first, then
django-webpush's own migrations folder: its migrations load from where they are installed (a
later release's new ones too, so this never hides one), and the missing one from here, under
upstream's name, so a release that ships it finds it applied already and the setting can go.
Changing `blank` alters no column: applying it runs no SQL.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

__path__ = [str(Path(__file__).parent), *find_spec("webpush.migrations").submodule_search_locations]
