"""Who receives a notification: what notify() is given (users, a queryset, a Group), and the
names the staff form and the command take, turned into recipients."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Q, QuerySet

from .models import Notification
from .preferences import kind_of, route

__all__ = ["recipients_for", "resolve", "select_recipients"]

# A NUL in a name would reach the query, and PostgreSQL refuses it (DataError): refused first.
_no_nul = ProhibitNullCharactersValidator("A user or group name must not contain NUL characters.")


def select_recipients(
    usernames: Iterable[str] = (), group_names: Iterable[str] = (), all_users: bool = False
) -> QuerySet:
    """The users named, the active members of the groups named, or every active user.

    Raises ValidationError naming every unknown user and group, or when nobody was chosen.
    """
    users = get_user_model()._default_manager
    usernames, group_names = list(usernames), list(group_names)
    for name in usernames + group_names:
        _no_nul(name)
    usernames = sorted({name.strip() for name in usernames if name.strip()})
    group_names = sorted({name.strip() for name in group_names if name.strip()})
    if all_users:
        return users.filter(is_active=True)
    if not usernames and not group_names:
        raise ValidationError("Choose the recipients: users, a group or all users.", code="required")

    errors = {}
    username_field = get_user_model().USERNAME_FIELD
    named = users.filter(**{f"{username_field}__in": usernames})
    found_users = set(named.values_list(username_field, flat=True))
    if missing := [name for name in usernames if name not in found_users]:
        errors["usernames"] = f"Unknown user{'s' if len(missing) > 1 else ''}: {', '.join(missing)}."
    groups = list(Group.objects.filter(name__in=group_names))
    if missing := sorted(set(group_names) - {g.name for g in groups}):
        errors["group"] = f"Unknown group{'s' if len(missing) > 1 else ''}: {', '.join(missing)}."
    if errors:
        raise ValidationError(errors)  # keyed by the send form's fields

    chosen = Q(**{f"{username_field}__in": usernames}) if usernames else Q()
    if groups:
        chosen |= Q(groups__in=groups, is_active=True)
    return users.filter(chosen).distinct()


def resolve(recipients) -> QuerySet | list[int]:
    """What notify() was given (a user, users, a queryset of users or a Group), as a queryset
    of users (fanned out inside the database) or a list of user ids; ValidationError otherwise."""
    user_model = get_user_model()
    if isinstance(recipients, Group):
        return user_model._default_manager.filter(groups=recipients, is_active=True)
    if isinstance(recipients, QuerySet):
        if not issubclass(recipients.model, user_model):
            raise ValidationError(
                f"Recipients must be users, not {recipients.model._meta.verbose_name_plural}."
            )
        if recipients.query.is_sliced:  # qs[:10]: keep the slice inside a subquery
            return user_model._default_manager.filter(pk__in=recipients.values("pk"))
        return recipients
    if isinstance(recipients, user_model):
        recipients = [recipients]
    if isinstance(recipients, (str, bytes)) or not isinstance(recipients, Iterable):
        raise ValidationError("Recipients must be a user, users, a queryset of users or a group.")
    ids = {}
    for user in recipients:
        if not isinstance(user, user_model) or user.pk is None:
            raise ValidationError(f"Not a saved user: {user!r}.")
        ids[user.pk] = None  # de-duplicated, in order
    return list(ids)


def recipients_for(message, channel: str) -> QuerySet:
    """The ids of the message's recipients who want it by `channel` (a values_list queryset: use it
    as a subquery, `recipient_id__in=recipients_for(...)`, or iterate it)."""
    rows = Notification.objects.filter(message=message).order_by()
    return route(rows, kind_of(message.kind), channel).values_list("recipient_id", flat=True)
