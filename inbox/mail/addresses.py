"""Who can be mailed: the address field of the user model, and the addresses a server refused
for good (bounces), which get no email until the user's address changes."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet

from .models import EmailBounce
from .sender import Outcome

__all__ = ["email_field", "mailable", "record_bounces"]

logger = logging.getLogger(__name__)


def email_field() -> str:
    return get_user_model().get_email_field_name()


def mailable(queryset: QuerySet, user_ref: str = "recipient") -> QuerySet:
    """`queryset` without the users who have no address or whose current address bounced."""
    address = f"{user_ref}__{email_field()}"
    bounced = EmailBounce.objects.filter(user=OuterRef(f"{user_ref}_id"), address=OuterRef(address))
    return queryset.exclude(**{address: ""}).exclude(**{f"{address}__isnull": True}).filter(~Exists(bounced))


def record_bounces(outcomes: list[Outcome], addresses: dict[int, str]) -> None:
    """A 5xx refused these addresses: no email goes to them until the user's address changes."""
    bounces = [
        EmailBounce(user_id=o.key, address=addresses[o.key], code=o.code, message=o.detail)
        for o in outcomes
        if o.kind == "bounce"
    ]
    if bounces:
        EmailBounce.objects.bulk_create(
            bounces,
            update_conflicts=True,
            unique_fields=["user", "address"],
            update_fields=["code", "message", "at"],
        )
        logger.warning(
            "%d address(es) refused for good, e.g. %s: %s",
            len(bounces),
            bounces[0].address,
            bounces[0].message,
        )
