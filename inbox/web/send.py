"""The staff send form's view."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from inbox.api import notify

from .decorators import staff_required
from .forms import SendForm
from .views import wants_partial


@require_http_methods(["GET", "POST"])
@staff_required
def send(request):
    """The staff send form: errors inline (htmx) or on the page (no JavaScript)."""
    form = SendForm(request.POST or None, sender=request.user)
    sent = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sent = notify(
                data["recipients"],
                data["message"],
                url=data["url"],
                level=data["level"],
                kind=data["kind"],
                expires_at=data["expires_at"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not request.htmx:
                messages.success(request, sent.summary)
                return redirect("inbox:send")
            form = SendForm(sender=request.user)

    template = "inbox/send.html#form" if wants_partial(request) else "inbox/send.html"
    status = 422 if form.errors else 200
    return render(request, template, {"form": form, "sent": sent}, status=status)
