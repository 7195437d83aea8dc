"""The preferences page: the grid of kinds x channels, and what the installed apps add to it
(inbox.web.extensions): the email digest's schedule and the email status with inbox.mail, the
push switch and the browsers receiving push with inbox.push. A site without them gets the grid."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from inbox.kinds import CHANNELS

from . import extensions
from .decorators import login_required
from .forms import PreferencesForm
from .views import wants_partial

SAVED = "Preferences saved."


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request):
    """GET shows the page; POST saves the grid and the digest: an htmx request gets the form back
    in place with a saved message (or its errors, 422), a plain POST is redirected back."""
    posted = request.method == "POST"
    form = PreferencesForm(request.user, request.POST if posted else None)
    saved = ""
    if posted and form.is_valid():
        form.save()
        if not request.htmx:
            messages.success(request, SAVED)
            return redirect("inbox:preferences")
        form, saved = PreferencesForm(request.user), SAVED

    context = {"form": form, "channels": CHANNELS, "saved": saved}
    status = 422 if form.errors else 200
    if wants_partial(request):
        context |= extensions.preferences_extras(request.user, form, whole_page=False)
        return render(request, "inbox/preferences.html#form", context, status=status)
    context |= extensions.preferences_extras(request.user, form, whole_page=True)
    return render(request, "inbox/preferences.html", context, status=status)
